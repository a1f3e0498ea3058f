package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// LeavePolicies: when the cluster stops matching, the objects stay, without
// Tugboat's ownership metadata; deleting a WithdrawPolicies profile removes them.
func TestStopMatchingBehavior(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "leave-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "left-behind", "namespace": "stop-matching"}, "data": {"a": "b"}}`)
	policyConfigMap(t, "withdraw-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taken-away", "namespace": "stop-matching"}, "data": {"a": "b"}}`)
	clusterProfile(t, "leave", "stop-matching", "yes", 100, libv1beta1.LeavePolicies, "leave-cm")
	clusterProfile(t, "withdraw", "stop-matching", "yes", 100, libv1beta1.WithdrawPolicies, "withdraw-cm")
	setLabels(t, "app-1", map[string]string{"stop-matching": "yes"})
	waitSummary(t, "leave", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	waitSummary(t, "withdraw", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	app1 := managedClient(t, "app-1")

	// Deleting the WithdrawPolicies profile removes its object.
	if err := mgmt.Delete(ctx, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "withdraw"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "taken-away withdrawn", func() error {
		return notFound(app1, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "stop-matching", Name: "taken-away"})
	})
	testenv.Eventually(t, "profile withdraw gone", func() error {
		return notFound(mgmt, &configv1beta1.ClusterProfile{}, types.NamespacedName{Name: "withdraw"})
	})

	// Unlabelling leaves the LeavePolicies object in place, released.
	setLabels(t, "app-1", map[string]string{"stop-matching": ""})
	testenv.Eventually(t, "summary of leave gone", func() error {
		return notFound(mgmt, &configv1beta1.ClusterSummary{}, types.NamespacedName{Namespace: "fleet", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "leave", "app-1")})
	})
	cm := &corev1.ConfigMap{}
	if err := app1.Get(ctx, types.NamespacedName{Namespace: "stop-matching", Name: "left-behind"}, cm); err != nil {
		t.Fatalf("LeavePolicies object removed: %v", err)
	}
	for _, k := range []string{libv1beta1.OwnerNameAnnotation, libv1beta1.OwnerKindAnnotation, libv1beta1.ReferenceNameAnnotation, libv1beta1.HashAnnotation} {
		if _, ok := cm.Annotations[k]; ok {
			t.Errorf("annotation %s left on the released object", k)
		}
	}
	if _, ok := cm.Labels[libv1beta1.ReasonLabel]; ok {
		t.Errorf("label %s left on the released object", libv1beta1.ReasonLabel)
	}
	if cm.Data["a"] != "b" {
		t.Errorf("released object changed: %v", cm.Data)
	}
}

// Two profiles deploying the same object: the lower tier takes it over and the
// other reports the conflict naming both; with equal tiers the first keeps it.
func TestConflictsByTier(t *testing.T) {
	ctx := context.Background()
	obj := func(v string) string {
		return fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "contested", "namespace": "conflicts"}, "data": {"from": %q}}`, v)
	}
	policyConfigMap(t, "first-cm", obj("first"))
	policyConfigMap(t, "second-cm", obj("second"))
	policyConfigMap(t, "winner-cm", obj("winner"))
	setLabels(t, "app-2", map[string]string{"conflicts": "yes"})
	app2 := managedClient(t, "app-2")
	contested := func(want string) func() error {
		return func() error {
			cm := &corev1.ConfigMap{}
			if err := app2.Get(ctx, types.NamespacedName{Namespace: "conflicts", Name: "contested"}, cm); err != nil {
				return err
			}
			if cm.Data["from"] != want {
				return fmt.Errorf("data.from = %q, want %q", cm.Data["from"], want)
			}
			return nil
		}
	}

	clusterProfile(t, "first", "conflicts", "yes", 100, "", "first-cm")
	waitSummary(t, "first", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	clusterProfile(t, "second", "conflicts", "yes", 100, "", "second-cm")
	s := waitSummary(t, "second", "app-2", resourcesStatus(libv1beta1.FeatureStatusFailed))
	msg := *s.FeatureSummary(libv1beta1.FeatureResources).FailureMessage
	for _, want := range []string{"first", "second", "contested"} {
		if !strings.Contains(msg, want) {
			t.Errorf("conflict message %q does not name %q", msg, want)
		}
	}
	testenv.Eventually(t, "first keeps it", contested("first"))

	clusterProfile(t, "winner", "conflicts", "yes", 10, "", "winner-cm")
	waitSummary(t, "winner", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	testenv.Eventually(t, "lower tier takes it", contested("winner"))
}
