package profiles_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A redeploy takes what was deployed before from the summary's record: new
// content adds an object and drops another without a list request, and the
// record follows.
func TestRedeployTakesPreviousFromTheRecord(t *testing.T) {
	const ns, cluster = "redeploy-record", "counted-redeploy"
	requests := countedCluster(t, cluster, "app-2", map[string]string{"redeploy-record": "yes"})
	deletePoliciesAtEnd(t, "redeploy-record-cm")
	policyConfigMap(t, "redeploy-record-cm", configMapsYAML(ns, "1", "a", "b"))
	clusterProfile(t, "redeploy-record", "redeploy-record", "yes", 100, "", "redeploy-record-cm")
	deleteProfileAtEnd(t, "redeploy-record")
	waitSummary(t, "redeploy-record", cluster, func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned); err != nil {
			return err
		}
		return recordIs([]string{"a", "b"}, nil)(s)
	})

	requests.reset()
	setPolicy(t, "redeploy-record-cm", nil, configMapsYAML(ns, "2", "a", "c"))
	waitSummary(t, "redeploy-record", cluster, func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned); err != nil {
			return err
		}
		return recordIs([]string{"a", "c"}, nil)(s)
	})
	app2 := managedClient(t, "app-2")
	testenv.Eventually(t, "b cleaned up", func() error {
		return notFound(app2, &corev1.ConfigMap{}, types.NamespacedName{Namespace: ns, Name: "b"})
	})
	testenv.Eventually(t, "c deployed, a updated", func() error {
		if err := configMapIn("app-2", ns, "c")(); err != nil {
			return err
		}
		return configMapHas("app-2", ns, "a", map[string]string{"v": "2"})()
	})
	if lists := requests.ownedLists(); len(lists) != 0 {
		t.Errorf("the redeploy listed the cluster: %v", lists)
	}
}
