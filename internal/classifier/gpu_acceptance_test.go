package classifier_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/classifier"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// TestGPUClassifierLabelsAndProfileDeploys is issue #19's acceptance: a
// Classifier labels clusters gpu=true while a ConfigMap hw/gpu exists in them;
// a ClusterProfile selecting gpu=true deploys there, and withdraws when the
// ConfigMap (hence the label) goes.
func TestGPUClassifierLabelsAndProfileDeploys(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	gpu := &libv1beta1.Classifier{
		ObjectMeta: metav1.ObjectMeta{Name: "gpu"},
		Spec: libv1beta1.ClassifierSpec{
			DeployedResourceConstraint: &libv1beta1.DeployedResourceConstraint{
				ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: "hw", Name: "gpu"}},
			},
			ClassifierLabels: []libv1beta1.ClassifierLabel{{Key: "gpu", Value: "true"}},
		},
	}
	create(t, mgmt, gpu)
	deleteAtEnd(t, gpu)

	create(t, mgmt, configMap("default", "gpu-driver", nil, map[string]string{"object.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: gpu-driver
  namespace: default
data:
  installed: "yes"
`}))
	profile := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "gpu-driver"}}
	profile.Spec.ClusterSelector.MatchLabels = map[string]string{"gpu": "true"}
	profile.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "gpu-driver"}}
	create(t, mgmt, profile)
	deleteAtEnd(t, profile)

	// Evaluated everywhere, matching nowhere yet.
	classifierStatus(t, "gpu", func(cl *libv1beta1.Classifier) error {
		for _, c := range managed {
			if i, ok := clusterInfo(cl, c); !ok || i.Status != libv1beta1.FeatureStatusProvisioned {
				return fmt.Errorf("cluster %s not evaluated yet: %+v", c, cl.Status.ClusterInfo)
			}
		}
		if len(cl.Status.MachingClusterStatuses) != 0 {
			return fmt.Errorf("matching %v, want none", matching(cl))
		}
		return nil
	})

	edge1 := managedClient(t, "edge-1")
	ensureNamespace(t, edge1, "hw")
	created := time.Now()
	create(t, edge1, configMap("hw", "gpu", nil, nil))

	testenv.Eventually(t, "edge-1 labelled gpu=true", labelIs(t, "edge-1", "gpu", "true"))
	// Logged, not asserted: tests never depend on how fast things happen.
	t.Logf("edge-1 labelled %s after the ConfigMap was created", time.Since(created).Round(time.Millisecond))
	deployed := func() error {
		return edge1.Get(ctx, types.NamespacedName{Namespace: "default", Name: "gpu-driver"}, &corev1.ConfigMap{})
	}
	testenv.Eventually(t, "the profile's ConfigMap deployed to edge-1", deployed)
	if err := labelIs(t, "edge-2", "gpu", "")(); err != nil {
		t.Fatal(err)
	}
	cl := classifierStatus(t, "gpu", func(cl *libv1beta1.Classifier) error {
		if got := matching(cl); !slices.Equal(got, []string{"edge-1"}) {
			return fmt.Errorf("matching %v, want [edge-1]", got)
		}
		return nil
	})
	if got := cl.Status.MachingClusterStatuses[0].ManagedLabels; !slices.Equal(got, []string{"gpu"}) {
		t.Fatalf("managed labels %v, want [gpu]", got)
	}
	report := &libv1beta1.ClassifierReport{}
	testenv.Eventually(t, "ClassifierReport of edge-1 matching", func() error {
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: fleetNamespace, Name: "sveltos--gpu--edge-1"}, report); err != nil {
			return err
		}
		if !report.Spec.Match || report.Spec.ClassifierName != "gpu" || report.Spec.ClusterType != libv1beta1.ClusterTypeSveltos ||
			report.Labels[libv1beta1.ClassifierNameLabel] != "gpu" || report.Status.Phase == nil || *report.Status.Phase != libv1beta1.ReportPhaseProcessed {
			return fmt.Errorf("report %+v %+v labels %v", report.Spec, report.Status, report.Labels)
		}
		return nil
	})
	if classifier.ReportName("gpu", libv1beta1.SveltosClusterID(fleetNamespace, "edge-1")) != report.Name {
		t.Fatalf("ReportName disagrees with %s", report.Name)
	}

	deleted := time.Now()
	if err := edge1.Delete(ctx, configMap("hw", "gpu", nil, nil)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "label gpu removed from edge-1", labelIs(t, "edge-1", "gpu", ""))
	t.Logf("label removed %s after the ConfigMap was deleted", time.Since(deleted).Round(time.Millisecond))
	testenv.Eventually(t, "the profile's ConfigMap withdrawn from edge-1", func() error {
		err := deployed()
		if err == nil {
			return fmt.Errorf("still deployed")
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
	testenv.Eventually(t, "ClassifierReport of edge-1 not matching", func() error {
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: fleetNamespace, Name: "sveltos--gpu--edge-1"}, report); err != nil {
			return err
		}
		if report.Spec.Match {
			return fmt.Errorf("still matching")
		}
		return nil
	})
}
