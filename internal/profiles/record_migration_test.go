package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// forgetRecord makes a summary look written by an older Tugboat: deployedGVKs
// without status.deployedObjects.
func forgetRecord(t *testing.T, profile, cluster string) {
	t.Helper()
	s := &configv1beta1.ClusterSummary{ObjectMeta: metav1.ObjectMeta{Namespace: "fleet",
		Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, profile, cluster)}}
	if err := mgmt.Status().Patch(context.Background(), s, client.RawPatch(types.MergePatchType, []byte(`{"status":{"deployedObjects":null}}`))); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, profile, cluster, func(s *configv1beta1.ClusterSummary) error {
		if len(s.Status.DeployedObjects) != 0 || len(s.Status.DeployedGVKs) == 0 {
			return fmt.Errorf("summary has record %+v, kinds %+v; want kinds only", s.Status.DeployedObjects, s.Status.DeployedGVKs)
		}
		return nil
	})
}

// A summary written by an older Tugboat (kinds recorded, objects not): its
// next redeploy lists the recorded kinds once and records the objects, after
// which redeploys list nothing; its withdrawal without a record lists too and
// removes everything.
func TestSummaryWithoutRecordIsListedOnce(t *testing.T) {
	ctx := context.Background()
	const ns, cluster = "record-migration", "counted-migration"
	requests := countedCluster(t, cluster, "app-1", map[string]string{"record-migration": "yes"})
	deletePoliciesAtEnd(t, "record-migration-cm")
	policyConfigMap(t, "record-migration-cm", configMapsYAML(ns, "1", "a", "b"))
	clusterProfile(t, "record-migration", "record-migration", "yes", 100, "", "record-migration-cm")
	deleteProfileAtEnd(t, "record-migration")
	waitSummary(t, "record-migration", cluster, recordIs([]string{"a", "b"}, nil))
	app1 := managedClient(t, "app-1")

	// Redeploy without a record: listed once, then recorded.
	forgetRecord(t, "record-migration", cluster)
	requests.reset()
	setPolicy(t, "record-migration-cm", nil, configMapsYAML(ns, "2", "a", "c"))
	waitSummary(t, "record-migration", cluster, recordIs([]string{"a", "c"}, nil))
	testenv.Eventually(t, "b cleaned up", func() error {
		return notFound(app1, &corev1.ConfigMap{}, types.NamespacedName{Namespace: ns, Name: "b"})
	})
	if lists := requests.ownedLists(); len(lists) == 0 {
		t.Error("the redeploy of a summary without a record did not list what it deployed")
	}
	requests.reset()
	setPolicy(t, "record-migration-cm", nil, configMapsYAML(ns, "3", "a"))
	waitSummary(t, "record-migration", cluster, recordIs([]string{"a"}, nil))
	testenv.Eventually(t, "c cleaned up", func() error {
		return notFound(app1, &corev1.ConfigMap{}, types.NamespacedName{Namespace: ns, Name: "c"})
	})
	if lists := requests.ownedLists(); len(lists) != 0 {
		t.Errorf("the redeploy after the record was written listed the cluster: %v", lists)
	}

	// Withdrawal without a record: listed, everything removed.
	forgetRecord(t, "record-migration", cluster)
	requests.reset()
	if err := mgmt.Delete(ctx, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "record-migration"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a withdrawn", func() error {
		return notFound(app1, &corev1.ConfigMap{}, types.NamespacedName{Namespace: ns, Name: "a"})
	})
	if lists := requests.ownedLists(); len(lists) == 0 {
		t.Error("the withdrawal of a summary without a record did not list what it deployed")
	}
}
