package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// preDeleteChecks hold a withdrawal: when the cluster stops matching, the
// deployed ConfigMap stays and the ClusterSummary waits (its failureMessage
// naming the check, the object and why, with an Event) while the gate object
// in the cluster says it is not drained; once it does (the object is watched),
// the ConfigMap is withdrawn and the summary goes.
func TestPreDeleteChecksHoldWithdrawal(t *testing.T) {
	ctx := context.Background()
	app2 := managedClient(t, "app-2")
	createNamespace(t, app2, "predelete")
	gate := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "predelete", Name: "gate"}, Data: map[string]string{"drained": "false"}}
	if err := app2.Create(ctx, gate); err != nil {
		t.Fatal(err)
	}
	policyConfigMap(t, "predelete-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "guarded", "namespace": "predelete"}, "data": {"a": "b"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "predelete"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "predelete-cm"}},
		PreDeleteChecks: []libv1beta1.ValidateHealth{{Name: "drained", FeatureID: libv1beta1.FeatureResources,
			Version: "v1", Kind: "ConfigMap", Namespace: "predelete",
			LabelFilters: []libv1beta1.LabelFilter{{Key: "role", Operation: libv1beta1.OperationEqual, Value: "gate"}},
			EvaluateCEL:  []libv1beta1.CELRule{{Name: "drained", Rule: `resource.data.drained == "true"`}}}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"predelete": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"predelete": "yes"})
	waitSummary(t, "predelete", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	// The gate is labelled only now: no selected object passes, so before this
	// the check would have let the withdrawal go.
	gate.Labels = map[string]string{"role": "gate"}
	if err := app2.Update(ctx, gate); err != nil {
		t.Fatal(err)
	}

	setLabels(t, "app-2", map[string]string{"predelete": ""})
	summaryName := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "predelete", "app-2")
	want := "withdrawal from cluster fleet/app-2 waits for preDeleteChecks: preDeleteChecks[0] drained: ConfigMap predelete/gate is not healthy: no evaluateCEL rule holds"
	testenv.Eventually(t, "summary held by its preDeleteChecks", func() error {
		s := &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: summaryName}, s); err != nil {
			return err
		}
		if s.DeletionTimestamp.IsZero() {
			return fmt.Errorf("summary not deleted yet")
		}
		if msg := s.Status.FailureMessage; msg == nil || *msg != want {
			return fmt.Errorf("failureMessage %v, want %q", msg, want)
		}
		return nil
	})
	waitEvent(t, "fleet", summaryName, "WithdrawalChecksFailing", "withdrawal from cluster fleet/app-2 waits for preDeleteChecks")
	if err := app2.Get(ctx, types.NamespacedName{Namespace: "predelete", Name: "guarded"}, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("withdrawn although the preDeleteChecks fail: %v", err)
	}

	gate.Data = map[string]string{"drained": "true"}
	if err := app2.Update(ctx, gate); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "guarded withdrawn", func() error {
		return notFound(app2, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "predelete", Name: "guarded"})
	})
	testenv.Eventually(t, "summary gone", func() error {
		return notFound(mgmt, &configv1beta1.ClusterSummary{}, types.NamespacedName{Namespace: "fleet", Name: summaryName})
	})
}

// preDeleteChecks or postDeleteChecks that do not compile are reported when the
// profile deploys — every feature Failed naming the field, the check and the
// error, with an Event — and nothing is deployed that they would hold.
func TestWithdrawalChecksBadInput(t *testing.T) {
	policyConfigMap(t, "delete-checks-bad-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "never", "namespace": "delete-checks-bad"}, "data": {"a": "b"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "delete-checks-bad"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "delete-checks-bad-cm"}},
		PreDeleteChecks: []libv1beta1.ValidateHealth{{Name: "typo", FeatureID: libv1beta1.FeatureResources,
			Version: "v1", Kind: "ConfigMap", EvaluateCEL: []libv1beta1.CELRule{{Name: "half", Rule: "resource.data.x =="}}}},
	}}
	selectCluster(t, p, "app-1", "delete-checks-bad")
	failedWithoutDeploying(t, "delete-checks-bad", "app-1", "preDeleteChecks[0] typo: evaluateCEL[0] half:", "preDeleteChecks[0] typo", "delete-checks-bad", "never")

	// Fixed, it deploys.
	updateClusterProfile(t, "delete-checks-bad", func(p *configv1beta1.ClusterProfile) {
		p.Spec.PreDeleteChecks[0].EvaluateCEL[0].Rule = `resource.data.x == "y"`
	})
	waitSummary(t, "delete-checks-bad", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
}

// createNamespace creates a namespace in a managed cluster unless it exists.
func createNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
