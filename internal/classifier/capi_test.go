package classifier_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/classifier"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// TestClusterAPIClusterIsClassified: a Cluster API Cluster is classified like a
// SveltosCluster — its version read through its connection, its resources
// watched — and labelled; its report is named capi--<classifier>--<cluster>.
// No Cluster API controller runs: the test plays it (the Cluster, its
// <name>-kubeconfig Secret pointing at the edge-2 API server, and the control
// plane reported initialized through the status subresource).
func TestClusterAPIClusterIsClassified(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	const ns, name = "capi-fleet", "edge-capi"
	ensureNamespace(t, mgmt, ns)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + libv1beta1.CAPIKubeconfigSuffix},
		Data:       map[string][]byte{libv1beta1.CAPIKubeconfigSecretKey: env.Cluster("edge-2").Kubeconfig},
	}
	create(t, mgmt, secret)
	deleteAtEnd(t, secret)
	capi := &capiv1beta2.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: capiv1beta2.ClusterSpec{Paused: ptr.To(false)}}
	create(t, mgmt, capi)
	deleteAtEnd(t, capi)
	capi.Status.Initialization.ControlPlaneInitialized = ptr.To(true)
	if err := mgmt.Status().Update(ctx, capi); err != nil {
		t.Fatal(err)
	}

	cl := &libv1beta1.Classifier{
		ObjectMeta: metav1.ObjectMeta{Name: "capi-seen"},
		Spec: libv1beta1.ClassifierSpec{
			KubernetesVersionConstraints: []libv1beta1.KubernetesVersionConstraint{{Version: "1.0.0", Comparison: libv1beta1.ComparisonGreaterThan}},
			DeployedResourceConstraint: &libv1beta1.DeployedResourceConstraint{
				ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "Namespace", Name: "kube-system"}},
			},
			ClassifierLabels: []libv1beta1.ClassifierLabel{{Key: "capi-seen", Value: "yes"}},
		},
	}
	create(t, mgmt, cl)
	deleteAtEnd(t, cl)

	key := types.NamespacedName{Namespace: ns, Name: name}
	capiLabel := func(want string) func() error {
		return func() error {
			got := &capiv1beta2.Cluster{}
			if err := mgmt.Get(ctx, key, got); err != nil {
				return err
			}
			if v := got.Labels["capi-seen"]; v != want {
				return fmt.Errorf("label capi-seen=%q, want %q", v, want)
			}
			return nil
		}
	}
	testenv.Eventually(t, "the Cluster API cluster labelled", capiLabel("yes"))
	reportKey := types.NamespacedName{Namespace: ns, Name: classifier.ReportName(cl.Name, libv1beta1.CAPIClusterID(ns, name))}
	if reportKey.Name != "capi--capi-seen--edge-capi" {
		t.Fatalf("report name %s", reportKey.Name)
	}
	testenv.Eventually(t, "its ClassifierReport", func() error {
		r := &libv1beta1.ClassifierReport{}
		if err := mgmt.Get(ctx, reportKey, r); err != nil {
			return err
		}
		if !r.Spec.Match || r.Spec.ClusterType != libv1beta1.ClusterTypeCapi || r.Labels[libv1beta1.ClassifierReportClusterTypeLabel] != "capi" {
			return fmt.Errorf("report %+v labels %v", r.Spec, r.Labels)
		}
		return nil
	})

	if err := mgmt.Delete(ctx, cl); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the label removed with the Classifier", capiLabel(""))
}
