package deployer_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// A recorded object that changed since this owner applied it is read, and
// decided on as it is now: edited by someone else, it is applied; taken over by
// a profile of a lower tier, it is a conflict and stays with that profile;
// deleted, it is created again.
func TestRecordedObjectChangedSinceFallsBackToReading(t *testing.T) {
	ns := uniqueName(t)
	c, log := newRecordingClient(t, ns)
	owner := profile("cp", 0)
	first := mustApply(t, c, request(owner, fromSource("src",
		configMap(t, ns, "edited", "1"), configMap(t, ns, "taken", "1"), configMap(t, ns, "deleted", "1"))...))

	edited := get(t, c, configMap(t, ns, "edited", ""))
	edited.SetLabels(map[string]string{"edited-by": "someone"})
	if err := c.Update(context.Background(), edited, client.FieldOwner("someone")); err != nil {
		t.Fatal(err)
	}
	mustApply(t, c, request(profile("winner", 1), fromSource("other", configMap(t, ns, "taken", "winner"))...))
	if err := c.Delete(context.Background(), configMap(t, ns, "deleted", "")); err != nil {
		t.Fatal(err)
	}

	t.Run("edited", func(t *testing.T) {
		log.Take()
		res := mustApply(t, c, withRecord(request(owner, fromSource("src", configMap(t, ns, "edited", "2"))...), first))
		if sent, want := log.Take(), []string{"PATCH edited", "GET edited", "PATCH edited"}; !slices.Equal(sent, want) {
			t.Errorf("sent %v, want %v (refused on its resourceVersion, read, applied)", sent, want)
		}
		live := get(t, c, configMap(t, ns, "edited", ""))
		if v, _, _ := unstructuredString(live, "data", "key"); v != "2" || ownerOf(live) != "cp" {
			t.Errorf("holds %q owned by %q, want 2 by cp", v, ownerOf(live))
		}
		if got := res.Versions[deployer.RefOf(live)]; got.ResourceVersion != live.GetResourceVersion() {
			t.Errorf("reported %+v, live is at %s", got, live.GetResourceVersion())
		}
	})
	t.Run("taken over", func(t *testing.T) {
		log.Take()
		res, err := (&deployer.Deployer{}).Apply(context.Background(), c,
			withRecord(request(owner, fromSource("src", configMap(t, ns, "taken", "2"))...), first))
		var conflict *deployer.ConflictError
		if !errors.As(err, &conflict) || conflict.Conflict.Holder.Name != "winner" || len(res.Conflicts) != 1 {
			t.Fatalf("err %v, conflicts %v; want a conflict held by winner", err, res.Conflicts)
		}
		if sent, want := log.Take(), []string{"PATCH taken", "GET taken"}; !slices.Equal(sent, want) {
			t.Errorf("sent %v, want %v (refused on its resourceVersion, read, left)", sent, want)
		}
		live := get(t, c, configMap(t, ns, "taken", ""))
		if v, _, _ := unstructuredString(live, "data", "key"); v != "winner" || ownerOf(live) != "winner" {
			t.Errorf("holds %q owned by %q, want winner's", v, ownerOf(live))
		}
	})
	t.Run("deleted", func(t *testing.T) {
		log.Take()
		res := mustApply(t, c, withRecord(request(owner, fromSource("src", configMap(t, ns, "deleted", "2"))...), first))
		// The API server ignores the resourceVersion of an apply that creates.
		if sent, want := log.Take(), []string{"PATCH deleted"}; !slices.Equal(sent, want) {
			t.Errorf("sent %v, want %v", sent, want)
		}
		live := get(t, c, configMap(t, ns, "deleted", ""))
		if v, _, _ := unstructuredString(live, "data", "key"); v != "2" || ownerOf(live) != "cp" {
			t.Fatalf("holds %q owned by %q, want 2 by cp", v, ownerOf(live))
		}
		ref := deployer.RefOf(live)
		if got := res.Versions[ref]; got.UID != live.GetUID() || got.UID == first.Versions[ref].UID {
			t.Errorf("reported uid %s, live %s, deleted one %s", got.UID, live.GetUID(), first.Versions[ref].UID)
		}
	})
}

// A recorded object whose new content changes an immutable field is, with
// Force, read and recreated.
func TestRecordedImmutableObjectIsRecreatedWithForce(t *testing.T) {
	ns := uniqueName(t)
	c, log := newRecordingClient(t, ns)
	first := mustApply(t, c, request(profile("cp", 0), immutableConfigMap(t, ns, "v1")))
	log.Take()
	want := immutableConfigMap(t, ns, "v2")
	want.Force = true
	res := mustApply(t, c, withRecord(request(profile("cp", 0), want), first))
	if sent, want := log.Take(), []string{"PATCH frozen", "GET frozen", "DELETE frozen", "PATCH frozen"}; !slices.Equal(sent, want) {
		t.Errorf("sent %v, want %v", sent, want)
	}
	live := get(t, c, want.Object)
	if v, _, _ := unstructuredString(live, "data", "key"); v != "v2" || live.GetUID() == first.Versions[first.Deployed[0]].UID {
		t.Errorf("holds %q (uid %s), want v2 in a new object", v, live.GetUID())
	}
	if res.Writes != 3 || res.Reads != 2 {
		t.Errorf("writes %d reads %d, want 3 (refused apply, delete, apply) and 2 (namespace, object)", res.Writes, res.Reads)
	}
}
