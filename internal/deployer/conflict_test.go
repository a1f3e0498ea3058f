package deployer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

func ownerOf(u *unstructured.Unstructured) string {
	if u == nil {
		return "<missing>"
	}
	return u.GetAnnotations()[libv1beta1.OwnerNameAnnotation]
}

// At equal tiers the first owner keeps the object; the newcomer's feature fails
// with a message naming both profiles, or, with ContinueOnConflict, deploys the
// rest and records the conflict.
func TestConflictEqualTiersFirstOwnerKeeps(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	shared := configMap(t, ns, "shared", "from-a")
	mustApply(t, c, request(profile("alpha", 0), fromSource("src-a", shared)...))

	other := configMap(t, ns, "only-b", "b")
	res, err := (&deployer.Deployer{}).Apply(context.Background(), c,
		request(profile("beta", 0), fromSource("src-b", configMap(t, ns, "shared", "from-b"), other)...))
	var ce *deployer.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConflictError", err)
	}
	for _, want := range []string{"ConfigMap " + ns + "/shared", "ClusterProfile alpha", "ClusterProfile beta"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("conflict message %q does not name %q", err, want)
		}
	}
	if len(res.Conflicts) != 1 || res.Conflicts[0].Holder.Name != "alpha" {
		t.Errorf("conflicts = %+v", res.Conflicts)
	}
	if got := ownerOf(get(t, c, shared)); got != "alpha" {
		t.Errorf("shared owned by %q, want alpha", got)
	}
	if v, _, _ := unstructuredString(get(t, c, shared), "data", "key"); v != "from-a" {
		t.Errorf("shared data %q, want from-a", v)
	}
	if get(t, c, other) != nil {
		t.Error("the rest of the feature was deployed despite the conflict")
	}

	req := request(profile("beta", 0), fromSource("src-b", configMap(t, ns, "shared", "from-b"), other)...)
	req.ContinueOnConflict = true
	res, err = (&deployer.Deployer{}).Apply(context.Background(), c, req)
	if err != nil {
		t.Fatalf("continueOnConflict: %v", err)
	}
	if len(res.Conflicts) != 1 || len(res.Deployed) != 1 || res.Deployed[0].Name != "only-b" {
		t.Errorf("continueOnConflict: conflicts=%+v deployed=%v", res.Conflicts, res.Deployed)
	}
	if got := ownerOf(get(t, c, shared)); got != "alpha" {
		t.Errorf("shared owned by %q after continueOnConflict, want alpha", got)
	}
}

// A profile with a lower tier takes the object over and names the loser so that it
// can be requeued; the loser then reports the conflict.
func TestConflictLowerTierWins(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	mustApply(t, c, request(profile("alpha", 0), fromSource("src-a", configMap(t, ns, "shared", "from-a"))...))

	res := mustApply(t, c, request(profile("beta", 50), fromSource("src-b", configMap(t, ns, "shared", "from-b"))...))
	if len(res.Preempted) != 1 || res.Preempted[0].Loser != profile("alpha", 100) ||
		res.Preempted[0].Feature != libv1beta1.FeatureResources || res.Preempted[0].Object.Name != "shared" {
		t.Errorf("preempted = %+v", res.Preempted)
	}
	live := get(t, c, configMap(t, ns, "shared", ""))
	if ownerOf(live) != "beta" || live.GetAnnotations()[libv1beta1.OwnerTierAnnotation] != "50" {
		t.Errorf("annotations after takeover: %v", live.GetAnnotations())
	}
	if v, _, _ := unstructuredString(live, "data", "key"); v != "from-b" {
		t.Errorf("data %q, want from-b", v)
	}

	_, err := (&deployer.Deployer{}).Apply(context.Background(), c, request(profile("alpha", 0), fromSource("src-a", configMap(t, ns, "shared", "from-a"))...))
	if err == nil || !strings.Contains(err.Error(), "ClusterProfile beta (tier 50)") || !strings.Contains(err.Error(), "lower tier") {
		t.Errorf("loser re-applying: err = %v", err)
	}
}

// A source's tier replaces the profile's tier in conflicts.
func TestConflictSourceTierOverridesProfileTier(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	first := fromSource("src-a", configMap(t, ns, "shared", "from-a"))
	first[0].Source.Tier = 10
	mustApply(t, c, request(profile("alpha", 200), first...))

	// beta's profile tier (50) is lower than alpha's, but alpha's source tier 10 holds.
	_, err := (&deployer.Deployer{}).Apply(context.Background(), c, request(profile("beta", 50), fromSource("src-b", configMap(t, ns, "shared", "from-b"))...))
	if err == nil || !strings.Contains(err.Error(), "(tier 10)") {
		t.Fatalf("err = %v", err)
	}
	second := fromSource("src-b", configMap(t, ns, "shared", "from-b"))
	second[0].Source.Tier = 5
	res := mustApply(t, c, request(profile("beta", 50), second...))
	if len(res.Preempted) != 1 || ownerOf(get(t, c, configMap(t, ns, "shared", ""))) != "beta" {
		t.Errorf("source tier 5 did not win: %+v", res.Preempted)
	}
}

// An object nobody owns (created by hand) is taken over.
func TestUnownedObjectIsTakenOver(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	mustApply(t, c, request(profile("seed", 0), fromSource("src", configMap(t, ns, "seed", "x"))...)) // creates the namespace
	manual := configMap(t, ns, "manual", "by-hand")
	if err := c.Create(context.Background(), manual); err != nil {
		t.Fatal(err)
	}
	res := mustApply(t, c, request(profile("cp", 0), fromSource("src", configMap(t, ns, "manual", "managed"))...))
	if len(res.Conflicts) != 0 || len(res.Preempted) != 0 || len(res.Deployed) != 1 {
		t.Errorf("result %+v", res)
	}
	live := get(t, c, manual)
	if v, _, _ := unstructuredString(live, "data", "key"); ownerOf(live) != "cp" || v != "managed" {
		t.Errorf("owner %q data %q", ownerOf(live), v)
	}
}
