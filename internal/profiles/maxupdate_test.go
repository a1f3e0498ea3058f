package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// maxUpdate 1: a spec change reaches one cluster at a time — while one summary
// is not yet Provisioned on the new spec, the other keeps the old one — and in
// the end every cluster has the new content.
func TestMaxUpdateRollsOutOneClusterAtATime(t *testing.T) {
	ctx := context.Background()
	content := func(v string) string {
		return fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rollout", "namespace": "rollout"}, "data": {"v": %q}}`, v)
	}
	policyConfigMap(t, "rollout-v1", content("1"))
	policyConfigMap(t, "rollout-v2", content("2"))
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "rollout"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"rollout": "yes"}
	one := intstr.FromInt32(1)
	p.Spec.MaxUpdate = &one
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "rollout-v1"}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, c := range managed {
		setLabels(t, c, map[string]string{"rollout": "yes"})
	}
	version := func(cluster string) string {
		cm := &corev1.ConfigMap{}
		if err := managedClientNoT(cluster).Get(ctx, types.NamespacedName{Namespace: "rollout", Name: "rollout"}, cm); err != nil {
			return ""
		}
		return cm.Data["v"]
	}
	t.Run("first spec everywhere", func(t *testing.T) {
		testenv.Eventually(t, "v1 everywhere", func() error {
			for _, c := range managed {
				if v := version(c); v != "1" {
					return fmt.Errorf("%s has %q", c, v)
				}
			}
			return nil
		})
	})

	// Change the spec; watch the summaries: never more than one on the new spec and unprovisioned.
	t.Run("a changed spec rolls out one cluster at a time", func(t *testing.T) {
		updateClusterProfile(t, "rollout", func(p *configv1beta1.ClusterProfile) {
			p.Spec.PolicyRefs[0].Name = "rollout-v2"
		})
		testenv.Eventually(t, "v2 everywhere, one cluster at a time", func() error {
			inFlight := 0
			for _, c := range managed {
				s := &configv1beta1.ClusterSummary{}
				if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "rollout", c)}, s); err != nil {
					return err
				}
				onNew := len(s.Spec.ClusterProfileSpec.PolicyRefs) == 1 && s.Spec.ClusterProfileSpec.PolicyRefs[0].Name == "rollout-v2"
				done := s.Status.ObservedGeneration == s.Generation && featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned) == nil
				if onNew && !done {
					inFlight++
				}
			}
			if inFlight > 1 {
				t.Fatalf("%d clusters updating at once with maxUpdate 1", inFlight)
			}
			for _, c := range managed {
				if v := version(c); v != "2" {
					return fmt.Errorf("%s has %q", c, v)
				}
			}
			return nil
		})
	})
}
