package dashboard_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// The local dashboard (`tug dashboard`) in a real browser: no login, the
// cluster's page read as the user, and a label given to the cluster after
// the page loaded appears without a reload — the change comes from the
// user's own watch (this server has no manager's cache), over the page's
// event stream. Screenshots of the local views go to the test's artifact
// folder.
func TestBrowserLocalFollowsTheUsersWatches(t *testing.T) {
	chromium(t)
	f := setup(t)
	users := makeLocalUsers(t)
	base := serveLocal(t, users.reader)
	eventuallyShows(t, "/clusters/fleet/app", "env=prod")
	shots := t.ArtifactDir()

	page := browser(t).MustPage(base + "/clusters").Timeout(time.Minute)
	page.MustWaitLoad()
	// RBAC takes a moment to reach the authorizer: reload until it has.
	for text := content(page); !strings.Contains(text, "fleet/app SveltosCluster ready"); text = content(page) {
		if strings.Contains(text, "forbidden") {
			page.MustReload().MustWaitLoad()
			continue
		}
		t.Fatalf("the local clusters page in the browser: %s", text)
	}
	if header := visible(page.MustElement("header").MustHTML()); !strings.Contains(header, "read with your kubeconfig") || strings.Contains(header, "Log out") {
		t.Errorf("the local dashboard's header: %s", header)
	}
	page.MustScreenshot(filepath.Join(shots, "local-clusters.png"))

	page.MustNavigate(base + "/clusters/fleet/app").MustWaitLoad()
	page.MustWait(`() => document.body.dataset.live === "1"`)
	if text := content(page); strings.Contains(text, "local=live") {
		t.Fatalf("the label is there before the change: %s", text)
	}
	page.MustEval(`() => { window.tugboatMarker = "same page" }`)
	if _, err := clusters.Register(context.Background(), mgmt, clusters.Registration{Namespace: f.app.Namespace, Name: f.app.Name,
		Kubeconfig: env.Cluster("app").Kubeconfig, Labels: map[string]string{"local": "live"}}); err != nil {
		t.Fatal(err)
	}
	if err := rod.Try(func() {
		page.MustWait(`() => document.getElementById("content").innerText.includes("local=live")`)
	}); err != nil {
		t.Fatalf("the new label did not appear on the open local page: %v\n%s", err, content(page))
	}
	if marker := page.MustEval(`() => window.tugboatMarker`).String(); marker != "same page" {
		t.Errorf("the page was reloaded (marker %q)", marker)
	}
	page.MustScreenshot(filepath.Join(shots, "local-cluster.png"))
}
