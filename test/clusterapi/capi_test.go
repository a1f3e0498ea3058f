package clusterapi_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const fleetNS = "capi-fleet"

// createCAPICluster plays Cluster API: a Cluster labelled labels, not yet
// initialized, and its <name>-kubeconfig Secret (key "value") pointing at the
// test API server apiServer.
func createCAPICluster(t *testing.T, name, apiServer string, labels map[string]string) *capiv1beta2.Cluster {
	t.Helper()
	ctx := context.Background()
	_ = mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fleetNS}})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: fleetNS, Name: name + libv1beta1.CAPIKubeconfigSuffix},
		Data:       map[string][]byte{libv1beta1.CAPIKubeconfigSecretKey: env.Cluster(apiServer).Kubeconfig},
	}
	if err := mgmt.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	c := &capiv1beta2.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: fleetNS, Name: name, Labels: labels},
		Spec: capiv1beta2.ClusterSpec{Paused: ptr.To(false)}}
	if err := mgmt.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// initializeControlPlane plays Cluster API reporting the control plane initialized.
func initializeControlPlane(t *testing.T, c *capiv1beta2.Cluster) {
	t.Helper()
	c.Status.Initialization.ControlPlaneInitialized = ptr.To(true)
	if err := mgmt.Status().Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func profileSelecting(t *testing.T, name string, sel map[string]string, refs []corev1.ObjectReference, configMap string) {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Data:       map[string]string{"cm.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: default\ndata:\n  cluster: \"{{ .Cluster.metadata.name }} {{ .Cluster.kind }}\"\n", configMap)},
	}
	cm.Annotations = map[string]string{libv1beta1.TemplateAnnotation: "ok"}
	if err := mgmt.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	cp := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.Spec{
		ClusterRefs: refs,
		PolicyRefs:  []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: name}},
	}}
	if sel != nil {
		cp.Spec.ClusterSelector = libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: sel}}
	}
	if err := mgmt.Create(ctx, cp); err != nil {
		t.Fatal(err)
	}
}

func configMapIn(t *testing.T, apiServer, name string) (*corev1.ConfigMap, error) {
	t.Helper()
	c, err := client.New(env.Cluster(apiServer).Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	return cm, c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, cm)
}

func waitConfigMap(t *testing.T, apiServer, name, want string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("ConfigMap %s in %s", name, apiServer), func() error {
		cm, err := configMapIn(t, apiServer, name)
		if err != nil {
			return err
		}
		if cm.Data["cluster"] != want {
			return fmt.Errorf("data %v, want cluster=%q", cm.Data, want)
		}
		return nil
	})
}

func profileStatus(t *testing.T, name string) *configv1beta1.ClusterProfile {
	t.Helper()
	cp := &configv1beta1.ClusterProfile{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

// A Cluster API Cluster labelled env=prod receives a ClusterProfile selecting
// env=prod once its control plane is initialized, not before; its summary is
// <profile>-capi-<cluster> of clusterType Capi; templates see the Cluster as
// .Cluster. Deleting the Cluster removes its summaries and withdraws nothing
// (the cluster is gone for Tugboat).
func TestClusterAPIClusterBySelector(t *testing.T) {
	ctx := context.Background()
	prod := createCAPICluster(t, "prod", "prod", map[string]string{"env": "prod"})
	profileSelecting(t, "capi-prod", map[string]string{"env": "prod"}, nil, "from-capi-prod")

	// Not ready: the profile has seen the cluster and matches nothing.
	testenv.Eventually(t, "capi-prod selects no cluster while prod is not initialized", func() error {
		cp := profileStatus(t, "capi-prod")
		c := findCondition(cp.Status.Conditions, "ClustersSelected")
		if c == nil || c.ObservedGeneration != cp.Generation || c.Message != "0 matching clusters" {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	if _, err := configMapIn(t, "prod", "from-capi-prod"); !apierrors.IsNotFound(err) {
		t.Fatalf("deployed before the control plane was initialized: %v", err)
	}

	initializeControlPlane(t, prod)
	waitConfigMap(t, "prod", "from-capi-prod", "prod Cluster")
	cp := profileStatus(t, "capi-prod")
	want := corev1.ObjectReference{APIVersion: "cluster.x-k8s.io/v1beta1", Kind: "Cluster", Namespace: fleetNS, Name: "prod"}
	if len(cp.Status.MatchingClusterRefs) != 1 || cp.Status.MatchingClusterRefs[0] != want {
		t.Fatalf("matchingClusterRefs %+v, want [%+v]", cp.Status.MatchingClusterRefs, want)
	}
	s := &configv1beta1.ClusterSummary{}
	summary := types.NamespacedName{Namespace: fleetNS, Name: "capi-prod-capi-prod"}
	if err := mgmt.Get(ctx, summary, s); err != nil {
		t.Fatal(err)
	}
	if s.Spec.ClusterType != libv1beta1.ClusterTypeCapi || s.Labels[configv1beta1.ClusterTypeLabel] != "Capi" {
		t.Fatalf("summary clusterType %q, label %q", s.Spec.ClusterType, s.Labels[configv1beta1.ClusterTypeLabel])
	}

	// A ClusterSet chooses among Cluster API clusters too.
	set := &libv1beta1.ClusterSet{ObjectMeta: metav1.ObjectMeta{Name: "capi-prod"}, Spec: libv1beta1.SetSpec{
		ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
		MaxReplicas:     1,
	}}
	if err := mgmt.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the ClusterSet selects the Cluster API cluster", func() error {
		got := &libv1beta1.ClusterSet{}
		if err := mgmt.Get(ctx, client.ObjectKeyFromObject(set), got); err != nil {
			return err
		}
		if len(got.Status.SelectedClusterRefs) != 1 || got.Status.SelectedClusterRefs[0] != want {
			return fmt.Errorf("selected %+v", got.Status.SelectedClusterRefs)
		}
		return nil
	})

	// The Cluster goes (as Cluster API deletes it with its Secret): its summaries
	// go, and nothing is withdrawn from the API server it stood for.
	if err := mgmt.Delete(ctx, prod); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the summary of the deleted Cluster is gone", func() error {
		err := mgmt.Get(ctx, summary, &configv1beta1.ClusterSummary{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("summary still there: %v", err)
	})
	if _, err := configMapIn(t, "prod", "from-capi-prod"); err != nil {
		t.Fatalf("the ConfigMap in the API server should stay (nothing withdrawn from a gone cluster): %v", err)
	}
}

// clusterRefs name Cluster API clusters as Sveltos does (kind Cluster,
// apiVersion cluster.x-k8s.io/v1beta1 or v1beta2); a SveltosCluster of the same
// namespace and name is a different cluster.
func TestClusterAPIClusterByRef(t *testing.T) {
	stage := createCAPICluster(t, "stage", "stage", nil)
	initializeControlPlane(t, stage)
	for _, apiVersion := range []string{"cluster.x-k8s.io/v1beta1", "cluster.x-k8s.io/v1beta2"} {
		name := "ref-" + apiVersion[len(apiVersion)-7:]
		profileSelecting(t, name, nil, []corev1.ObjectReference{{APIVersion: apiVersion, Kind: "Cluster", Namespace: fleetNS, Name: "stage"}}, name)
		waitConfigMap(t, "stage", name, "stage Cluster")
	}
	// A SveltosCluster ref with the same namespace/name does not reach it.
	profileSelecting(t, "ref-sveltos", nil, []corev1.ObjectReference{{Kind: "SveltosCluster", Namespace: fleetNS, Name: "stage"}}, "ref-sveltos")
	testenv.Eventually(t, "ref-sveltos matches nothing", func() error {
		cp := profileStatus(t, "ref-sveltos")
		c := findCondition(cp.Status.Conditions, "ClustersSelected")
		if c == nil || c.ObservedGeneration != cp.Generation || c.Message != "0 matching clusters" {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}
