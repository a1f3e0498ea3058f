package dashboard_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	bin := chromium(t)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=2000", "--window-size=1280,900"}
	run := func(extra ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(append(args, extra...), baseURL+path)...)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("chromium %s: %v\n%s", path, err, stderr)
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
