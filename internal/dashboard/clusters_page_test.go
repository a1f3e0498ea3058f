package dashboard_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// The clusters page lists every cluster with its kind, readiness, version,
// labels and how its profiles fare, with the first failure's text; ?q=
// filters on the server.
func TestClustersPage(t *testing.T) {
	f := setup(t)
	eventuallyShows(t, "/clusters", "fleet/app", "SveltosCluster", "ready", "env=prod", "mgmt/mgmt", f.failure)
	text := eventuallyShows(t, "/clusters?q=env%3Dprod", "1–1 of 1", "fleet/app")
	if got := text; strings.Contains(got, "mgmt/mgmt") {
		t.Errorf("the filter env=prod kept mgmt/mgmt: %s", got)
	}
}

// A cluster's page lists what is deployed there, per feature, with the
// failure text verbatim and a link to the explanation; a label change shows
// once the manager's cache has it.
func TestClusterPage(t *testing.T) {
	f := setup(t)
	eventuallyShows(t, "/clusters/fleet/app", "ClusterProfile/dash-ok", "Resources Provisioned",
		"ClusterProfile/dash-broken", "Resources Failed", f.failure, "explain")
	if _, err := clusters.Register(context.Background(), mgmt, clusters.Registration{Namespace: f.app.Namespace, Name: f.app.Name,
		Kubeconfig: env.Cluster("app").Kubeconfig, Labels: map[string]string{"dashboard": "seen"}}); err != nil {
		t.Fatal(err)
	}
	eventuallyShows(t, "/clusters/fleet/app", "dashboard=seen", "env=prod")
	if code, _, err := get("/clusters/fleet/nowhere"); err != nil || code != http.StatusNotFound {
		t.Errorf("an unknown cluster: %d %v", code, err)
	}
}
