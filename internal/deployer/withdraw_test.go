package deployer_test

import (
	"context"
	"testing"

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
