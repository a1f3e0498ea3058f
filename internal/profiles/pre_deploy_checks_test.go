package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// preDeployChecks hold a feature back until they pass in the cluster: with no
// StorageClass labelled tier=ssd there, nothing of the Resources feature is
// applied and it stays Provisioning with the check's message; creating one (the
// StorageClass is watched in the cluster) lets it deploy.
func TestPreDeployChecksHoldDeploymentUntilTheyPass(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "predeploy-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gated", "namespace": "predeploy"}, "data": {"a": "b"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "predeploy"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "predeploy-cm"}},
		PreDeployChecks: []libv1beta1.ValidateHealth{{Name: "ssd", FeatureID: libv1beta1.FeatureResources,
			Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass",
			LabelFilters: []libv1beta1.LabelFilter{{Key: "tier", Operation: libv1beta1.OperationEqual, Value: "ssd"}}}},
	}}
	selectCluster(t, p, "app-1", "predeploy")
	app1 := managedClient(t, "app-1")

	want := "waiting for preDeployChecks: preDeployChecks[0] ssd: no StorageClass with labels tier=ssd in the cluster"
	waitSummary(t, "predeploy", "app-1", provisioningWith(libv1beta1.FeatureResources, want))
	if err := app1.Get(ctx, types.NamespacedName{Namespace: "predeploy", Name: "gated"}, &corev1.ConfigMap{}); err == nil {
		t.Fatal("the gated ConfigMap was deployed before the preDeployChecks passed")
	}
	waitEvent(t, "fleet", configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "predeploy", "app-1"), "PreDeployChecksPending", "Resources: waiting for preDeployChecks")

	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast", Labels: map[string]string{"tier": "ssd"}}, Provisioner: "example.com/none"}
	if err := app1.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app1.Delete(context.Background(), sc) })
	waitSummary(t, "predeploy", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	testenv.Eventually(t, "gated ConfigMap deployed", configMapIn("app-1", "predeploy", "gated"))
}

// A preDeployChecks script that does not compile fails the feature it gates,
// naming the field, the check and the error, with an Event; nothing is deployed.
func TestPreDeployChecksBadInput(t *testing.T) {
	policyConfigMap(t, "predeploy-bad-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "never", "namespace": "predeploy-bad"}, "data": {"a": "b"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "predeploy-bad"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "predeploy-bad-cm"}},
		PreDeployChecks: []libv1beta1.ValidateHealth{{Name: "broken", FeatureID: libv1beta1.FeatureResources,
			Version: "v1", Kind: "Namespace", Script: "function evaluate( return end"}},
	}}
	selectCluster(t, p, "app-2", "predeploy-bad")
	failedWithoutDeploying(t, "predeploy-bad", "app-2", "preDeployChecks[0] broken: script:", "preDeployChecks[0] broken: script:", "predeploy-bad", "never")
}

// provisioningWith accepts a summary whose feature is Provisioning with exactly the message.
func provisioningWith(id libv1beta1.FeatureID, want string) func(*configv1beta1.ClusterSummary) error {
	return func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, id, libv1beta1.FeatureStatusProvisioning); err != nil {
			return err
		}
		if msg := s.FeatureSummary(id).FailureMessage; msg == nil || *msg != want {
			return fmt.Errorf("message %v, want %q", msg, want)
		}
		return nil
	}
}
