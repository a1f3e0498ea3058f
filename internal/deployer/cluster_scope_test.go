package deployer_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// One profile deploying for two registrations that share an API server (or, for
// Local objects, the management cluster): each registration's objects are its
// own — Owned lists only them and stale cleanup never removes the other's.
func TestRegistrationsSharingAnAPIServerKeepTheirObjects(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	forCluster := func(cluster string) deployer.Owner {
		o := profile("cp", 0)
		o.Cluster = cluster
		return o
	}
	a, b := forCluster("fleet/a"), forCluster("fleet/b")
	mustApply(t, c, request(a, fromSource("src", configMap(t, ns, "for-a", "1"))...))
	mustApply(t, c, request(b, fromSource("src", configMap(t, ns, "for-b", "1"))...))

	gvks := []schema.GroupVersionKind{{Version: "v1", Kind: "ConfigMap"}}
	owned, err := deployer.Owned(t.Context(), c, a, libv1beta1.FeatureResources, gvks)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range owned {
		if r.Namespace == ns && r.Name == "for-b" {
			t.Fatalf("Owned for fleet/a lists fleet/b's object: %v", owned)
		}
	}

	// a's next deploy, with everything it owns as Previous, leaves b's object alone.
	req := request(a, fromSource("src", configMap(t, ns, "for-a", "2"))...)
	req.Previous = owned
	mustApply(t, c, req)
	if get(t, c, configMap(t, ns, "for-b", "1")) == nil {
		t.Fatal("fleet/a's cleanup deleted fleet/b's object")
	}
}
