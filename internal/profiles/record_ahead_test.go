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

// Objects are recorded before they are applied: when a later object of the
// same apply fails, the one applied before it is in the record (the kinds in
// deployedGVKs are written only after a successful apply), and deleting the
// profile withdraws it.
func TestObjectsAreRecordedBeforeTheirApply(t *testing.T) {
	ctx := context.Background()
	const ns, cluster = "record-ahead", "counted-record-ahead"
	countedCluster(t, cluster, "app-2", map[string]string{"record-ahead": "yes"})
	deletePoliciesAtEnd(t, "record-ahead-cm")
	policyConfigMap(t, "record-ahead-cm", configMapsYAML(ns, "1", "first")+"\n---\n"+
		fmt.Sprintf(`{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "refused", "namespace": %q}, "spec": {"ports": [{"port": 70000}]}}`, ns))
	clusterProfile(t, "record-ahead", "record-ahead", "yes", 100, "", "record-ahead-cm")
	deleteProfileAtEnd(t, "record-ahead")
	waitSummary(t, "record-ahead", cluster, func(s *configv1beta1.ClusterSummary) error {
		if err := featureFailedWith(libv1beta1.FeatureResources, "refused")(s); err != nil {
			return err
		}
		var names []string
		for _, rec := range s.Status.DeployedObjects {
			for _, o := range rec.Remote {
				names = append(names, o.Kind+"/"+o.Name)
			}
		}
		if strings.Join(names, ",") != "ConfigMap/first,Service/refused" {
			return fmt.Errorf("record holds %v, want the ConfigMap applied and the Service refused", names)
		}
		return nil
	})
	app2 := managedClient(t, "app-2")
	if err := configMapIn("app-2", ns, "first")(); err != nil {
		t.Fatalf("the object before the refused one: %v", err)
	}

	if err := mgmt.Delete(ctx, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "record-ahead"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "first withdrawn", func() error {
		return notFound(app2, &corev1.ConfigMap{}, types.NamespacedName{Namespace: ns, Name: "first"})
	})
}
