package deployer_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// objectRequests records "METHOD name" for every request a client sends about
// the ConfigMaps of one namespace (reads and writes).
type objectRequests struct {
	mu   sync.Mutex
	path string // ".../namespaces/<ns>/configmaps/"
	seen []string
}

func (l *objectRequests) RoundTrip(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if _, name, ok := strings.Cut(req.URL.Path, l.path); ok {
			l.mu.Lock()
			l.seen = append(l.seen, req.Method+" "+name)
			l.mu.Unlock()
		}
		return next.RoundTrip(req)
	})
}

// Take returns what was recorded since the last Take and forgets it.
func (l *objectRequests) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.seen
	l.seen = nil
	return out
}

// newRecordingClient is a live client for the managed cluster recording its
// requests about the ConfigMaps of ns (the test's own reads with it too: Take
// before the call to look at).
func newRecordingClient(t *testing.T, ns string) (client.Client, *objectRequests) {
	t.Helper()
	log := &objectRequests{path: "/api/v1/namespaces/" + ns + "/configmaps/"}
	return clientThrough(t, log.RoundTrip), log
}

// withRecord is req with the objects first deployed, as the caller recorded them.
func withRecord(req deployer.Request, first deployer.Result) deployer.Request {
	req.Recorded = recordedOf(first)
	return req
}

// A recorded object whose content changed is applied with one request, without
// reading it; the result reports its new version and hash. An unchanged
// redeploy still reads each object and writes nothing.
func TestRecordedObjectWithNewContentIsAppliedWithoutReading(t *testing.T) {
	ns := uniqueName(t)
	c, log := newRecordingClient(t, ns)
	first := mustApply(t, c, request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1"))...))
	for _, ref := range first.Deployed {
		live := get(t, c, configMap(t, ns, ref.Name, ""))
		if v := first.Versions[ref]; v.Hash == "" || v.Hash != live.GetAnnotations()[libv1beta1.HashAnnotation] {
			t.Fatalf("%s: reported hash %q, the object carries %q", ref, v.Hash, live.GetAnnotations()[libv1beta1.HashAnnotation])
		}
	}
	log.Take()

	a2, b2 := configMap(t, ns, "a", "2"), configMap(t, ns, "b", "2")
	res := mustApply(t, c, withRecord(request(profile("cp", 0), fromSource("src", a2, b2)...), first))
	sent := log.Take()
	slices.Sort(sent)
	if want := []string{"PATCH a", "PATCH b"}; !slices.Equal(sent, want) {
		t.Errorf("requests about the objects %v, want %v (no read)", sent, want)
	}
	if res.Writes != 2 || res.Reads != 1 { // the one read: the namespace
		t.Errorf("writes %d reads %d, want 2 and 1 (the namespace)", res.Writes, res.Reads)
	}
	for _, o := range []string{"a", "b"} {
		live := get(t, c, configMap(t, ns, o, ""))
		if v, _, _ := unstructuredString(live, "data", "key"); v != "2" {
			t.Errorf("%s holds %q, want 2", o, v)
		}
		ref := deployer.RefOf(live)
		if got, want := res.Versions[ref], (deployer.Version{UID: live.GetUID(), ResourceVersion: live.GetResourceVersion(),
			Hash: live.GetAnnotations()[libv1beta1.HashAnnotation]}); got != want || got.Hash == first.Versions[ref].Hash {
			t.Errorf("%s: reported %+v, live %+v (hash before %q)", o, got, want, first.Versions[ref].Hash)
		}
	}

	// Steady state: the recorded hash is the desired one; each object is read
	// (a deletion or takeover would show) and nothing is written.
	log.Take()
	again := mustApply(t, c, withRecord(request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "2"), configMap(t, ns, "b", "2"))...), res))
	sent = log.Take()
	slices.Sort(sent)
	if want := []string{"GET a", "GET b"}; !slices.Equal(sent, want) || again.Writes != 0 || again.Unchanged != 2 {
		t.Errorf("steady state sent %v (writes %d, unchanged %d), want %v, no write", sent, again.Writes, again.Unchanged, want)
	}
}

// A dry run and Reapply read every object, recorded or not.
func TestRecordIsNotUsedByDryRunOrReapply(t *testing.T) {
	ns := uniqueName(t)
	c, log := newRecordingClient(t, ns)
	first := mustApply(t, c, request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "1"))...))
	for _, tc := range []struct {
		name string
		set  func(*deployer.Request)
		want []string
	}{
		{"dry run", func(r *deployer.Request) { r.DryRun = true }, []string{"GET a", "PATCH a"}}, // the dry-run apply
		{"reapply", func(r *deployer.Request) { r.Reapply = true }, []string{"GET a", "PATCH a"}},
	} {
		log.Take()
		req := withRecord(request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "2"))...), first)
		tc.set(&req)
		if _, err := (&deployer.Deployer{}).Apply(context.Background(), c, req); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if sent := log.Take(); !slices.Equal(sent, tc.want) {
			t.Errorf("%s sent %v, want %v", tc.name, sent, tc.want)
		}
	}
}
