package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/explain"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The explain page shows the explanation internal/explain gives — the steps
// `tug explain` prints, in order, with their verdicts and details.
func TestExplainPage(t *testing.T) {
	f := setup(t)
	eventuallyShows(t, "/explain?profile=ClusterProfile/dash-web&cluster=fleet/app",
		"ClusterProfile/dash-web does not reach fleet/app: blocked at step", "(clusterSelector type=app)",
		"blocks clusterSelector type=app cluster has no label type")
	eventuallyShows(t, "/explain?profile=ClusterProfile/dash-ok&cluster=fleet/app", "ClusterProfile/dash-ok reaches fleet/app")

	// Step for step what the library says (read directly, not from the cache).
	path := "/explain?" + url.Values{"profile": {"ClusterProfile/dash-broken"}, "cluster": {f.app.String()}}.Encode()
	testenv.Eventually(t, "the page shows the library's steps", func() error {
		in, err := explain.Load(context.Background(), clusters.Fleet{Reader: mgmt}, configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: "dash-broken"}, f.app)
		if err != nil {
			return err
		}
		e := explain.Explain(in)
		_, text, err := get(path)
		if err != nil {
			return err
		}
		rest := text
		for i, s := range e.Steps {
			row := fmt.Sprintf("%d %s %s %s", i+1, s.Verdict, s.Title, s.Detail)
			n := strings.Index(rest, strings.TrimSpace(row))
			if n < 0 {
				return fmt.Errorf("step %q not shown (in order) in %s", row, text)
			}
			rest = rest[n:]
		}
		return nil
	})

	for path, want := range map[string]int{
		"/explain?profile=web&cluster=fleet/app":                            http.StatusBadRequest,
		"/explain?profile=ClusterProfile/dash-web&cluster=app":              http.StatusBadRequest,
		"/explain?profile=ClusterProfile/dash-nothing&cluster=fleet/app":    http.StatusNotFound,
		"/explain?profile=Profile/default/dash-nothing&cluster=default/app": http.StatusNotFound,
		"/profiles/ClusterProfile/dash-nothing":                             http.StatusNotFound,
	} {
		if code, text, err := get(path); err != nil || code != want {
			t.Errorf("%s: %d (want %d) %v %s", path, code, want, err, text)
		}
	}
}
