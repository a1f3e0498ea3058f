package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// chromium is Debian's chromium (hack/setup.sh installs it); the browser
// tests skip, saying so, where it is missing.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium on PATH (Debian package chromium, installed by hack/setup.sh): the browser test cannot run here")
	}
	return path
}

// browse loads the page in headless Chromium, lets its scripts run for a
// couple of seconds and returns the DOM as the browser rendered it; it also
// writes a screenshot to shot (when not empty).
func browse(t *testing.T, path, shot string) string {
	t.Helper()
	return browseURL(t, baseURL+path, shot)
}

// browseURL is browse for a full URL.
func browseURL(t *testing.T, address, shot string) string {
	t.Helper()
	bin := chromium(t)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=2000", "--window-size=1280,900"}
	run := func(extra ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(append(args, extra...), address)...)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("chromium %s: %v\n%s", address, err, stderr)
		}
		return string(out)
	}
	if shot != "" {
		run("--screenshot=" + shot)
	}
	return run("--dump-dom")
}

// A real browser renders the pages: the cluster in the fleet, the profile's
// failure text from its ClusterSummary, and the explanation of a profile
// whose selector leaves the cluster out. The page's script runs there and
// reloads the content on its own (the body records when it last did).
// Screenshots of the main views go to the test's artifact folder
// (go test -artifacts keeps them).
func TestBrowserRendersThePages(t *testing.T) {
	chromium(t)
	f := setup(t)
	// Wait until the cache has what the pages show.
	eventuallyShows(t, "/profiles/ClusterProfile/dash-broken", f.failure)
	eventuallyShows(t, "/explain?profile=ClusterProfile/dash-web&cluster=fleet/app", "cluster has no label type")
	shots := t.ArtifactDir()

	dom := browse(t, "/clusters", filepath.Join(shots, "clusters.png"))
	if text := visible(dom); !strings.Contains(text, "fleet/app SveltosCluster ready") {
		t.Errorf("clusters page in the browser: %s", text)
	}
	if !strings.Contains(dom, "data-refreshed=") {
		t.Errorf("the page did not refresh itself in the browser: %s", dom)
	}

	dom = browse(t, "/profiles/ClusterProfile/dash-broken", filepath.Join(shots, "profile.png"))
	if text := visible(dom); !strings.Contains(text, f.failure) {
		t.Errorf("profile page in the browser lacks the failure %q: %s", f.failure, text)
	}

	dom = browse(t, "/explain?profile=ClusterProfile/dash-web&cluster=fleet/app", filepath.Join(shots, "explain.png"))
	if text := visible(dom); !strings.Contains(text, "blocks clusterSelector type=app cluster has no label type") {
		t.Errorf("explain page in the browser: %s", text)
	}
	for _, page := range []string{"events", "environments"} {
		browse(t, "/"+page, filepath.Join(shots, page+".png"))
	}
	t.Logf("screenshots in %s", shots)
}

// A label given to the cluster after the page loaded appears in the browser
// without a reload: between the dashboard and the browser, the first request
// the page's script makes on its own changes the label and waits for the
// manager's cache to have it before letting the request through.
func TestBrowserFollowsALabelChange(t *testing.T) {
	chromium(t)
	f := setup(t)
	eventuallyShows(t, "/clusters/fleet/app", "env=prod")
	if _, text, _ := get("/clusters/fleet/app"); strings.Contains(text, "browser=live") {
		t.Fatalf("the label is there before the page loads: %s", text)
	}
	target, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	changed := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("X-Tugboat-Refresh") != "" {
			once.Do(func() { changed <- labelAndWait(f) })
		}
		proxy.ServeHTTP(w, req)
	}))
	defer srv.Close()

	// No screenshot here: its own load would change the label before the DOM is read.
	dom := browseURL(t, srv.URL+"/clusters/fleet/app", "")
	select {
	case err := <-changed:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("the page made no request of its own: %s", dom)
	}
	if text := visible(dom); !strings.Contains(text, "browser=live") {
		t.Errorf("the new label is not on the page: %s", text)
	}
}

// labelAndWait labels the app cluster browser=live and waits until the
// dashboard shows it.
func labelAndWait(f *fleet) error {
	if _, err := clusters.Register(context.Background(), mgmt, clusters.Registration{Namespace: f.app.Namespace, Name: f.app.Name,
		Kubeconfig: env.Cluster("app").Kubeconfig, Labels: map[string]string{"browser": "live"}}); err != nil {
		return err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, text, err := get("/clusters/fleet/app"); err == nil && strings.Contains(text, "browser=live") {
			return nil
		}
	}
	return fmt.Errorf("the dashboard did not show the label browser=live within 30s")
}
