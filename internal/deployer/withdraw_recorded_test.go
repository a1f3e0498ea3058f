package deployer_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// recordedOf is what a caller records of an Apply: each deployed object with
// the version Apply reported.
func recordedOf(res deployer.Result) []deployer.Recorded {
	var out []deployer.Recorded
	for _, ref := range res.Deployed {
		out = append(out, deployer.Recorded{Ref: ref, Version: res.Versions[ref]})
	}
	return out
}

// WithdrawRecorded deletes each recorded object with one DELETE on condition of
// the version Apply reported, without listing or reading; an object another
// profile took over since (its resourceVersion changed) is read again and left
// alone.
func TestWithdrawRecordedSendsOneDeletePerObject(t *testing.T) {
	reads := &readCounter{}
	log := &requestLog{}
	c := clientThrough(t, reads.RoundTrip, log.RoundTrip)
	ns := uniqueName(t)
	a, b, taken := configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1"), configMap(t, ns, "taken", "1")
	res := mustApply(t, c, request(profile("cp", 0), fromSource("src", a, b, taken)...))
	if len(res.Versions) != 3 || res.Versions[res.Deployed[0]].UID == "" || res.Versions[res.Deployed[0]].ResourceVersion == "" {
		t.Fatalf("Apply reported versions %+v, want a UID and resourceVersion for each of the 3 objects", res.Versions)
	}
	mustApply(t, c, request(profile("winner", 1), fromSource("other", configMap(t, ns, "taken", "2"))...))

	before := reads.count()
	log.Reset()
	done, err := (&deployer.Deployer{}).WithdrawRecorded(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, recordedOf(res), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := reads.count() - before; n != 1 {
		t.Errorf("WithdrawRecorded read %d times, want 1 (the object taken over since the apply)", n)
	}
	writes := log.Writes()
	if len(writes) != 3 || slices.ContainsFunc(writes, func(w string) bool { return !strings.HasPrefix(w, "DELETE ") }) {
		t.Errorf("requests sent %v, want one DELETE per recorded object", writes)
	}
	if len(done) != 2 || get(t, c, a) != nil || get(t, c, b) != nil {
		t.Errorf("withdrawn %v; a and b should be gone", done)
	}
	if ownerOf(get(t, c, taken)) != "winner" {
		t.Error("the object another profile took over was touched")
	}
	// Withdrawing again (a withdrawal interrupted before its record was
	// written): the objects are gone, nothing fails.
	if _, err := (&deployer.Deployer{}).WithdrawRecorded(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, recordedOf(res), false); err != nil {
		t.Errorf("second withdraw: %v", err)
	}
}

// With leave, WithdrawRecorded releases each object with one PATCH and no read.
func TestWithdrawRecordedLeaveReleasesWithoutReading(t *testing.T) {
	reads := &readCounter{}
	c := clientThrough(t, reads.RoundTrip)
	ns := uniqueName(t)
	cm := configMap(t, ns, "kept", "value")
	res := mustApply(t, c, request(profile("cp", 0), fromSource("src", cm)...))
	before := reads.count()
	done, err := (&deployer.Deployer{}).WithdrawRecorded(context.Background(), c, profile("cp", 0), libv1beta1.FeatureResources, recordedOf(res), true)
	if err != nil || len(done) != 1 {
		t.Fatalf("withdraw: %v %v", done, err)
	}
	if n := reads.count() - before; n != 0 {
		t.Errorf("released with %d reads, want 0", n)
	}
	live := get(t, c, cm)
	if live == nil {
		t.Fatal("object deleted with leave")
	}
	if _, ok := live.GetLabels()[libv1beta1.ReasonLabel]; ok || len(live.GetAnnotations()) != 0 {
		t.Errorf("ownership metadata left behind: labels %v annotations %v", live.GetLabels(), live.GetAnnotations())
	}
}

// BeforeWrite sees every object before anything is written; its error stops
// Apply with nothing written.
func TestApplyBeforeWriteComesFirst(t *testing.T) {
	c, log := newClient(t)
	ns := uniqueName(t)
	a, b := configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1")
	req := request(profile("cp", 0), fromSource("src", a, b)...)
	var seen []deployer.ObjectRef
	req.BeforeWrite = func(_ context.Context, refs []deployer.ObjectRef) error {
		seen = refs
		if w := log.Writes(); len(w) != 0 {
			t.Errorf("written before BeforeWrite: %v", w)
		}
		return errors.New("store unavailable")
	}
	log.Reset()
	if _, err := (&deployer.Deployer{}).Apply(context.Background(), c, req); err == nil || !strings.Contains(err.Error(), "store unavailable") {
		t.Fatalf("Apply error %v, want the BeforeWrite error", err)
	}
	if !slices.Equal(seen, refs(a, b)) {
		t.Errorf("BeforeWrite got %v, want %v", seen, refs(a, b))
	}
	if w := log.Writes(); len(w) != 0 {
		t.Errorf("written after BeforeWrite failed: %v", w)
	}
}
