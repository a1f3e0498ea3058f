package dashboard_test

import (
	"testing"
)

// The profiles page lists every profile with matching, updated and failed
// clusters and the first failure's text; a profile's page lists its
// clusters with the summaries' failure text verbatim.
func TestProfilesPage(t *testing.T) {
	f := setup(t)
	eventuallyShows(t, "/profiles", "ClusterProfile/dash-ok", "ClusterProfile/dash-broken", "ClusterProfile/dash-web",
		"fleet/app: Resources Failed: "+f.failure)
	eventuallyShows(t, "/profiles?q=dash-broken", "1–1 of 1")
	eventuallyShows(t, "/profiles/ClusterProfile/dash-broken", "clusterSelector env=prod", "fleet/app", "Failed", f.failure)
}
