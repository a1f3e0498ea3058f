package deployer_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// Withdraw deletes what the owner still owns, skips what is gone or owned by
// someone else, and leaves the namespace it created.
func TestWithdrawDeletesWhatItOwns(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	a, b, taken := configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1"), configMap(t, ns, "taken", "1")
	res := mustApply(t, c, request(profile("cp", 0), fromSource("src", a, b, taken)...))
	mustApply(t, c, request(profile("winner", 1), fromSource("other", configMap(t, ns, "taken", "2"))...))
	if err := c.Delete(context.Background(), get(t, c, b)); err != nil { // already gone
		t.Fatal(err)
	}

	done, err := (&deployer.Deployer{}).Withdraw(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, res.Deployed, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].Name != "a" {
		t.Errorf("withdrawn = %v, want only a", done)
	}
	if get(t, c, a) != nil {
		t.Error("owned object not deleted")
	}
	if ownerOf(get(t, c, taken)) != "winner" {
		t.Error("object owned by another profile was touched")
	}
	if get(t, c, obj(t, "{apiVersion: v1, kind: Namespace, metadata: {name: %s}}", ns)) == nil {
		t.Error("namespace was deleted")
	}
	// Withdrawing again is a no-op.
	if done, err := (&deployer.Deployer{}).Withdraw(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, res.Deployed, false); err != nil || len(done) != 0 {
		t.Errorf("second withdraw: %v %v", done, err)
	}
}

// Withdraw with leave strips Tugboat's ownership metadata and keeps the objects
// and everything else on them.
func TestWithdrawLeaveStripsOwnership(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	cm := configMap(t, ns, "kept", "value")
	req := request(profile("cp", 0), fromSource("src", cm)...)
	req.ExtraLabels = map[string]string{"team": "blue"}
	res := mustApply(t, c, req)

	done, err := (&deployer.Deployer{}).Withdraw(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, res.Deployed, true)
	if err != nil || len(done) != 1 {
		t.Fatalf("withdraw: %v %v", done, err)
	}
	live := get(t, c, cm)
	if live == nil {
		t.Fatal("object deleted with leave")
	}
	for k := range live.GetAnnotations() {
		t.Errorf("annotation %s left behind", k)
	}
	if _, ok := live.GetLabels()[libv1beta1.ReasonLabel]; ok {
		t.Error("reason label left behind")
	}
	if live.GetLabels()["team"] != "blue" {
		t.Error("extra label removed")
	}
	if v, _, _ := unstructuredString(live, "data", "key"); v != "value" {
		t.Errorf("data %q", v)
	}
	// The object is now nobody's: a different profile takes it without conflict.
	if r := mustApply(t, c, request(profile("next", 0), fromSource("src", configMap(t, ns, "kept", "value"))...)); len(r.Conflicts) != 0 {
		t.Errorf("conflicts after leave: %+v", r.Conflicts)
	}
}

// WithdrawOwned deletes what OwnedObjects listed (metadata only) without reading
// each object again; an object that changed since the list is read again and
// withdrawn only if it is still the owner's: one made anew by the same owner
// is deleted, one taken over by another profile is left alone.
func TestWithdrawOwnedDeletesFromTheListWithoutReading(t *testing.T) {
	reads := &readCounter{}
	c := clientThrough(t, reads.RoundTrip)
	ns := uniqueName(t)
	a, b := configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1")
	remade, taken := configMap(t, ns, "remade", "1"), configMap(t, ns, "taken", "1")
	mustApply(t, c, request(profile("cp", 0), fromSource("src", a, b, remade, taken)...))
	gvks := []schema.GroupVersionKind{{Version: "v1", Kind: "ConfigMap"}}
	owned, err := deployer.OwnedObjects(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, gvks)
	if err != nil {
		t.Fatal(err)
	}
	var mine []deployer.OwnedObject
	for _, o := range owned {
		if o.Ref.Namespace == ns {
			mine = append(mine, o)
		}
	}
	if len(mine) != 4 || mine[0].Source.Name != "src" {
		t.Fatalf("OwnedObjects = %+v, want a, b, remade and taken from src", mine)
	}
	// After the list: remade is deleted and made anew by the same owner (another
	// UID); taken is taken over by a profile of a lower (winning) tier.
	if err := c.Delete(context.Background(), get(t, c, remade)); err != nil {
		t.Fatal(err)
	}
	mustApply(t, c, request(profile("cp", 0), fromSource("src", remade)...))
	mustApply(t, c, request(profile("winner", 1), fromSource("other", configMap(t, ns, "taken", "2"))...))

	before := reads.count()
	done, err := (&deployer.Deployer{}).WithdrawOwned(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, mine, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := reads.count() - before; n != 2 {
		t.Errorf("WithdrawOwned read %d times, want 2 (the two objects that changed since the list)", n)
	}
	if len(done) != 3 || get(t, c, a) != nil || get(t, c, b) != nil || get(t, c, remade) != nil {
		t.Errorf("withdrawn %v; a, b and the remade one should be gone", done)
	}
	if ownerOf(get(t, c, taken)) != "winner" {
		t.Error("the object another profile took over after the list was touched")
	}
}

// readCounter counts GET requests.
type readCounter struct{ n atomic.Int64 }

func (r *readCounter) RoundTrip(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodGet {
			r.n.Add(1)
		}
		return next.RoundTrip(req)
	})
}

func (r *readCounter) count() int64 { return r.n.Load() }
