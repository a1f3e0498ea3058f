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

// configMapsYAML is one ConfigMap per name in namespace ns, as one manifest.
func configMapsYAML(ns, value string, names ...string) string {
	var docs []string
	for _, n := range names {
		docs = append(docs, fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": %q, "namespace": %q}, "data": {"v": %q}}`, n, ns, value))
	}
	return strings.Join(docs, "\n---\n")
}

// recordIs accepts a summary whose record of Resources holds exactly the named
// objects, remote and local, each with the UID and resourceVersion of its apply.
func recordIs(remote, local []string) func(*configv1beta1.ClusterSummary) error {
	names := func(objs []configv1beta1.DeployedObject) ([]string, error) {
		var out []string
		for _, o := range objs {
			if o.UID == "" || o.ResourceVersion == "" {
				return nil, fmt.Errorf("%s %s/%s recorded without its version", o.Kind, o.Namespace, o.Name)
			}
			out = append(out, o.Name)
		}
		return out, nil
	}
	return func(s *configv1beta1.ClusterSummary) error {
		for _, rec := range s.Status.DeployedObjects {
			if rec.FeatureID != libv1beta1.FeatureResources {
				continue
			}
			r, err := names(rec.Remote)
			if err != nil {
				return err
			}
			l, err := names(rec.Local)
			if err != nil {
				return err
			}
			if strings.Join(r, ",") != strings.Join(remote, ",") || strings.Join(l, ",") != strings.Join(local, ",") {
				return fmt.Errorf("record holds remote %v local %v, want remote %v local %v", r, l, remote, local)
			}
			return nil
		}
		return fmt.Errorf("no record of Resources in %+v", s.Status.DeployedObjects)
	}
}

// Deleting a profile withdraws what its summary recorded: one DELETE per
// object, no list; an object another profile took over meanwhile stays with
// it; the Local object leaves the management cluster; the summary goes.
func TestWithdrawalDeletesWhatTheSummaryRecordedWithoutListing(t *testing.T) {
	ctx := context.Background()
	const ns, cluster = "withdraw-record", "counted-withdraw"
	requests := countedCluster(t, cluster, "app-1", map[string]string{"withdraw-record": "yes"})
	deletePoliciesAtEnd(t, "withdraw-record-cm", "withdraw-record-local-cm", "withdraw-record-winner-cm")
	policyConfigMap(t, "withdraw-record-cm", configMapsYAML(ns, "1", "a", "b", "taken"))
	policyConfigMap(t, "withdraw-record-local-cm", configMapsYAML("default", "1", "withdraw-record-local"))
	clusterProfile(t, "withdraw-record", "withdraw-record", "yes", 100, "", "withdraw-record-cm")
	deleteProfileAtEnd(t, "withdraw-record")
	updateClusterProfile(t, "withdraw-record", func(p *configv1beta1.ClusterProfile) {
		p.Spec.PolicyRefs = append(p.Spec.PolicyRefs, libv1beta1.PolicyRef{Kind: "ConfigMap", Namespace: "default",
			Name: "withdraw-record-local-cm", DeploymentType: libv1beta1.DeploymentTypeLocal})
	})
	waitSummary(t, "withdraw-record", cluster, func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned); err != nil {
			return err
		}
		return recordIs([]string{"a", "b", "taken"}, []string{"withdraw-record-local"})(s)
	})
	// A profile of a lower (winning) tier takes one object over.
	policyConfigMap(t, "withdraw-record-winner-cm", configMapsYAML(ns, "winner", "taken"))
	clusterProfile(t, "withdraw-record-winner", "withdraw-record", "yes", 10, "", "withdraw-record-winner-cm")
	deleteProfileAtEnd(t, "withdraw-record-winner")
	waitSummary(t, "withdraw-record-winner", cluster, resourcesStatus(libv1beta1.FeatureStatusProvisioned))

	requests.reset()
	if err := mgmt.Delete(ctx, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "withdraw-record"}}); err != nil {
		t.Fatal(err)
	}
	summary := types.NamespacedName{Namespace: "fleet", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "withdraw-record", cluster)}
	testenv.Eventually(t, "summary "+summary.String()+" gone", func() error {
		return notFound(mgmt, &configv1beta1.ClusterSummary{}, summary)
	})
	app1 := managedClient(t, "app-1")
	for _, name := range []string{"a", "b"} {
		if err := notFound(app1, &corev1.ConfigMap{}, types.NamespacedName{Namespace: ns, Name: name}); err != nil {
			t.Errorf("after the summary went: %v", err)
		}
	}
	if err := notFound(mgmt, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "default", Name: "withdraw-record-local"}); err != nil {
		t.Errorf("Local object: %v", err)
	}
	taken := &corev1.ConfigMap{}
	if err := app1.Get(ctx, types.NamespacedName{Namespace: ns, Name: "taken"}, taken); err != nil {
		t.Fatalf("the object another profile took over was deleted: %v", err)
	}
	if owner := taken.Annotations[libv1beta1.OwnerNameAnnotation]; owner != "withdraw-record-winner" || taken.Data["v"] != "winner" {
		t.Errorf("the object another profile took over: owner %q data %v", owner, taken.Data)
	}
	if lists := requests.ownedLists(); len(lists) != 0 {
		t.Errorf("withdrawal listed the cluster: %v", lists)
	}
	var deletes int
	for _, r := range requests.in(ns) {
		if strings.HasPrefix(r, "DELETE ") {
			deletes++
		}
	}
	if deletes != 3 {
		t.Errorf("withdrawal sent %d DELETEs, want one per recorded object (3): %v", deletes, requests.in(ns))
	}
}
