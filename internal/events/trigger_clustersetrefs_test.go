package events_test

import (
	"fmt"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// clusterSetRefs: the clusters a referenced ClusterSet selects are source
// clusters as well as those matching sourceClusterSelector (here none). The
// workload cluster becomes a source when the set selects it, and its
// generated profile goes when the set stops selecting it.
func TestTriggerClusterSetRefsAddSourceClusters(t *testing.T) {
	const name = "events-clustersetrefs"
	applyYAML(t, []byte(`
apiVersion: lib.projectsveltos.io/v1beta1
kind: ClusterSet
metadata: {name: `+name+`}
spec:
  clusterSelector: {matchLabels: {`+name+`: member}}
  maxReplicas: 1
---
`+configMapEventSource(name)+`apiVersion: lib.projectsveltos.io/v1beta1
kind: EventTrigger
metadata: {name: `+name+`}
spec:
  sourceClusterSelector: {matchLabels: {`+name+`: source}}
  clusterSetRefs: [`+name+`]
  destinationClusterSelector: {matchLabels: {`+name+`: nowhere}}
  eventSourceName: `+name+`
`))
	createSourceConfigMap(t, clusterClient(t, "workload"), name, name, "x")
	setLabels(t, "workload", map[string]string{name: "member"})
	t.Cleanup(func() { setLabels(t, "workload", map[string]string{name: ""}) })

	p := waitOneProfile(t, name)
	if got := p.Labels[libv1beta1.EventTriggerClusterNameLabel]; got != "workload" {
		t.Fatalf("generated for cluster %q, want workload", got)
	}
	setLabels(t, "workload", map[string]string{name: ""})
	testenv.Eventually(t, "no profile once the set no longer selects workload", func() error {
		if n := len(generatedProfiles(t, name)); n != 0 {
			return fmt.Errorf("%d generated profiles", n)
		}
		return nil
	})
}
