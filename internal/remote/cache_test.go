package remote

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// TestCacheFetchesOncePerInterval: calls inside the interval are answered
// from the last fetch, the first call after it fetches again, another
// template flag is another entry, and a failed fetch stores nothing (the
// next call asks the server again). The clock is the cache's own, moved by
// the test.
func TestCacheFetchesOncePerInterval(t *testing.T) {
	ctx := context.Background()
	var requests atomic.Int32
	var failing atomic.Bool
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := requests.Add(1)
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("kind: ConfigMap # fetch " + string(rune('0'+n)) + "\n"))
	}))
	defer srv.Close()

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCache()
	c.now = func() time.Time { return now }
	ref := libv1beta1.RemoteURL{URL: srv.URL + "/app.yaml", InsecureSkipTLSVerify: true,
		Interval: &metav1.Duration{Duration: time.Minute}}

	first, err := c.Get(ctx, nil, ref, "default")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		now = now.Add(10 * time.Second)
		body, err := c.Get(ctx, nil, ref, "default")
		if err != nil || string(body) != string(first) {
			t.Fatalf("inside the interval: body %q, error %v; want %q", body, err, first)
		}
	}
	if got := requests.Load(); got != 1 {
		t.Fatalf("%d requests for 4 calls inside the interval, want 1", got)
	}

	now = now.Add(time.Minute)
	second, err := c.Get(ctx, nil, ref, "default")
	if err != nil {
		t.Fatal(err)
	}
	if got := requests.Load(); got != 2 || string(second) == string(first) {
		t.Fatalf("after the interval: %d requests, body %q; want 2 and a new body", got, second)
	}

	templated := ref
	templated.Template = true
	if _, err := c.Get(ctx, nil, templated, "default"); err != nil {
		t.Fatal(err)
	}
	if got := requests.Load(); got != 3 {
		t.Fatalf("another template flag: %d requests, want 3", got)
	}

	failing.Store(true)
	now = now.Add(time.Minute)
	for want := int32(4); want <= 5; want++ {
		if _, err := c.Get(ctx, nil, ref, "default"); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("failing server: error %v, want the 503", err)
		}
		if got := requests.Load(); got != want {
			t.Fatalf("failing server: %d requests, want %d (a failure is not kept)", got, want)
		}
	}
	if len(c.entries) != 0 {
		t.Errorf("%d entries kept after their interval passed, want none", len(c.entries))
	}
}
