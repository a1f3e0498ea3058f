package dashboard_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-rod/rod"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard/browsertest"
)

func chromium(t *testing.T) string { return browsertest.Chromium(t) }

func browser(t *testing.T) *rod.Browser { return browsertest.Browser(t) }

// logIn opens path of the test's dashboard in a new tab and logs in with token.
func logIn(t *testing.T, b *rod.Browser, path, token string) *rod.Page {
	return browsertest.LogIn(t, b, baseURL, path, token)
}

func content(page *rod.Page) string { return browsertest.Content(page) }

// A real browser logs in through the form (a wrong token is refused there)
// and renders the pages: the cluster in the fleet, the profile's failure text
// from its ClusterSummary, and the explanation of a profile whose selector
// leaves the cluster out; each page opens the event stream that keeps it
// current. Screenshots of the main views go to the test's artifact folder
// (go test -artifacts keeps them).
func TestBrowserRendersThePages(t *testing.T) {
	chromium(t)
	f := setup(t)
	// Wait until the cache has what the pages show.
	eventuallyShows(t, "/profiles/ClusterProfile/dash-broken", f.failure)
	eventuallyShows(t, "/explain?profile=ClusterProfile/dash-web&cluster=fleet/app", "cluster has no label type")
	shots := t.ArtifactDir()
	b := browser(t)

	refused := logIn(t, b, "/clusters", "not-the-token")
	if text := content(refused); !strings.Contains(text, "Wrong token.") {
		t.Errorf("a wrong token in the browser: %s", text)
	}
	refused.MustScreenshot(filepath.Join(shots, "login.png"))

	page := logIn(t, b, "/clusters", token)
	if text := content(page); !strings.Contains(text, "fleet/app SveltosCluster ready") {
		t.Errorf("clusters page in the browser: %s", text)
	}
	page.MustWait(`() => document.body.dataset.live === "1"`)
	page.MustScreenshot(filepath.Join(shots, "clusters.png"))

	page.MustNavigate(baseURL + "/profiles/ClusterProfile/dash-broken").MustWaitLoad()
	if text := content(page); !strings.Contains(text, f.failure) {
		t.Errorf("profile page in the browser lacks the failure %q: %s", f.failure, text)
	}
	page.MustScreenshot(filepath.Join(shots, "profile.png"))

	page.MustNavigate(baseURL + "/explain?profile=ClusterProfile/dash-web&cluster=fleet/app").MustWaitLoad()
	if text := content(page); !strings.Contains(text, "blocks clusterSelector type=app cluster has no label type") {
		t.Errorf("explain page in the browser: %s", text)
	}
	page.MustScreenshot(filepath.Join(shots, "explain.png"))
	for name, path := range map[string]string{"cluster": "/clusters/fleet/app", "profiles": "/profiles", "events": "/events", "environments": "/environments"} {
		page.MustNavigate(baseURL + path).MustWaitLoad()
		page.MustScreenshot(filepath.Join(shots, name+".png"))
	}
	t.Logf("screenshots in %s", shots)
}

// A label given to the cluster after the page loaded appears on the open page
// without a reload: the manager's watch notifies the page over its event
// stream and the page fetches its content again. (A reload would lose the
// marker the test leaves in the page's window.)
func TestBrowserFollowsALabelChange(t *testing.T) {
	chromium(t)
	f := setup(t)
	eventuallyShows(t, "/clusters/fleet/app", "env=prod")
	if _, text, _ := get("/clusters/fleet/app"); strings.Contains(text, "browser=live") {
		t.Fatalf("the label is there before the page loads: %s", text)
	}
	page := logIn(t, browser(t), "/clusters/fleet/app", token)
	page.MustWait(`() => document.body.dataset.live === "1"`)
	page.MustEval(`() => { window.tugboatMarker = "same page" }`)

	if _, err := clusters.Register(context.Background(), mgmt, clusters.Registration{Namespace: f.app.Namespace, Name: f.app.Name,
		Kubeconfig: env.Cluster("app").Kubeconfig, Labels: map[string]string{"browser": "live"}}); err != nil {
		t.Fatal(err)
	}
	if err := rod.Try(func() {
		page.MustWait(`() => document.getElementById("content").innerText.includes("browser=live")`)
	}); err != nil {
		t.Fatalf("the new label did not appear on the open page: %v\n%s", err, content(page))
	}
	if marker := page.MustEval(`() => window.tugboatMarker`).String(); marker != "same page" {
		t.Errorf("the page was reloaded (marker %q)", marker)
	}
}
