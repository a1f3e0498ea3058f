package deployer_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// After a successful apply, what was deployed last time and is no longer desired is
// deleted, except objects another profile has taken over since.
func TestStaleObjectsAreRemoved(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	keep, drop, taken := configMap(t, ns, "keep", "1"), configMap(t, ns, "drop", "1"), configMap(t, ns, "taken", "1")
	first := mustApply(t, c, request(profile("cp", 0), fromSource("src", keep, drop, taken)...))

	// Another profile with a lower tier takes "taken" over.
	mustApply(t, c, request(profile("winner", 10), fromSource("other", configMap(t, ns, "taken", "2"))...))

	req := request(profile("cp", 0), fromSource("src", configMap(t, ns, "keep", "1"))...)
	req.Previous = first.Deployed
	res := mustApply(t, c, req)
	if len(res.Removed) != 1 || res.Removed[0].Name != "drop" {
		t.Errorf("removed = %v, want only drop", res.Removed)
	}
	if get(t, c, drop) != nil {
		t.Error("stale object still there")
	}
	if get(t, c, keep) == nil {
		t.Error("desired object deleted")
	}
	if ownerOf(get(t, c, taken)) != "winner" {
		t.Error("object taken over by another profile was deleted or changed")
	}
}

// A failed apply leaves stale objects alone: the last good state stays.
func TestStaleCleanupSkippedOnError(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	old := configMap(t, ns, "old", "1")
	first := mustApply(t, c, request(profile("cp", 0), fromSource("src", old)...))

	bad := obj(t, `{apiVersion: v1, kind: Service, metadata: {name: bad, namespace: %s}, spec: {ports: [{port: 0}]}}`, ns)
	req := request(profile("cp", 0), fromSource("src", bad)...)
	req.Previous = first.Deployed
	res, err := (&deployer.Deployer{}).Apply(context.Background(), c, req)
	if err == nil {
		t.Fatal("invalid Service accepted")
	}
	if len(res.Removed) != 0 || get(t, c, old) == nil {
		t.Errorf("stale object removed despite the failure: %v", res.Removed)
	}
}

// Owned finds what an owner's feature deployed, from the kinds alone (as recorded
// in a ClusterSummary's deployedGVKs).
func TestOwnedListsWhatAnOwnerDeployed(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	res := mustApply(t, c, request(profile("lister", 0), fromSource("src", configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1"))...))
	mustApply(t, c, request(profile("someone-else", 0), fromSource("src", configMap(t, ns, "c", "1"))...))

	var gvks []schema.GroupVersionKind
	for _, s := range deployer.DeployedGVKs(res.Deployed) {
		gvk, _ := schema.ParseKindArg(s)
		gvks = append(gvks, *gvk)
	}
	gvks = append(gvks, schema.GroupVersionKind{Group: "nothing.example.com", Version: "v1", Kind: "Missing"})
	got, err := deployer.Owned(context.Background(), c, profile("lister", 0), libv1beta1.FeatureResources, gvks)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range got {
		if r.Namespace == ns {
			names[r.Name] = true
		}
	}
	if len(names) != 2 || !names["a"] || !names["b"] {
		t.Errorf("owned = %v", got)
	}
}
