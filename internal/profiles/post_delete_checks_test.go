package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// stillPresent fails every object it sees: the check passes once none is selected.
const stillPresent = `
function evaluate()
  return {healthy = false, message = "still present"}
end`

// postDeleteChecks hold the ClusterSummary after withdrawal: when the cluster
// stops matching, the deployed ConfigMap is withdrawn at once, the feature says
// Removed and the summary waits (failureMessage naming the check, the object
// and why) while a lingering object the check selects is in the cluster; once
// it is deleted (it is watched), the summary goes.
func TestPostDeleteChecksHoldTheSummaryAfterWithdrawal(t *testing.T) {
	ctx := context.Background()
	app1 := managedClient(t, "app-1")
	createNamespace(t, app1, "postdelete")
	lingering := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "postdelete", Name: "lingering", Labels: map[string]string{"cleanup": "pending"}}}
	if err := app1.Create(ctx, lingering); err != nil {
		t.Fatal(err)
	}
	policyConfigMap(t, "postdelete-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "postdelete"}, "data": {"a": "b"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "postdelete"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "postdelete-cm"}},
		PostDeleteChecks: []libv1beta1.ValidateHealth{{Name: "cleaned-up", FeatureID: libv1beta1.FeatureResources,
			Version: "v1", Kind: "ConfigMap", Namespace: "postdelete",
			LabelFilters: []libv1beta1.LabelFilter{{Key: "cleanup", Operation: libv1beta1.OperationEqual, Value: "pending"}},
			Script:       stillPresent}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"postdelete": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"postdelete": "yes"})
	waitSummary(t, "postdelete", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))

	setLabels(t, "app-1", map[string]string{"postdelete": ""})
	testenv.Eventually(t, "app withdrawn", func() error {
		return notFound(app1, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "postdelete", Name: "app"})
	})
	summaryName := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "postdelete", "app-1")
	want := "withdrawal from cluster fleet/app-1 waits for postDeleteChecks: postDeleteChecks[0] cleaned-up: ConfigMap postdelete/lingering is not healthy: still present"
	testenv.Eventually(t, "summary held by its postDeleteChecks", func() error {
		s := &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: summaryName}, s); err != nil {
			return err
		}
		if msg := s.Status.FailureMessage; msg == nil || *msg != want {
			return fmt.Errorf("failureMessage %v, want %q", msg, want)
		}
		return featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusRemoved)
	})
	waitEvent(t, "fleet", summaryName, "WithdrawalChecksFailing", "withdrawal from cluster fleet/app-1 waits for postDeleteChecks")

	if err := app1.Delete(ctx, lingering); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "summary gone", func() error {
		return notFound(mgmt, &configv1beta1.ClusterSummary{}, types.NamespacedName{Namespace: "fleet", Name: summaryName})
	})
}
