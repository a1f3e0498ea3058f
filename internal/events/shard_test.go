package events_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A source cluster annotated with another shard's key is left to that shard's
// manager: this (unsharded) manager generates nothing for its events, until the
// annotation goes.
func TestShardedSourceClusterIsLeftToItsManager(t *testing.T) {
	ctx := context.Background()
	workload := types.NamespacedName{Namespace: fleetNamespace, Name: "workload"}
	testenv.Eventually(t, "workload ready", func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(ctx, workload, sc); err != nil {
			return err
		}
		if !sc.Status.Ready {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	annotate := func(value string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			sc := &libv1beta1.SveltosCluster{}
			if err := mgmt.Get(ctx, workload, sc); err != nil {
				return err
			}
			if sc.Annotations == nil {
				sc.Annotations = map[string]string{}
			}
			if value == "" {
				delete(sc.Annotations, libv1beta1.ShardAnnotation)
			} else {
				sc.Annotations[libv1beta1.ShardAnnotation] = value
			}
			return mgmt.Update(ctx, sc)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	annotate("elsewhere")
	defer annotate("")
	setLabels(t, "workload", map[string]string{"shard-source": "yes"})

	applyYAML(t, []byte(`apiVersion: lib.projectsveltos.io/v1beta1
kind: EventSource
metadata: {name: shard-source}
spec:
  resourceSelectors:
  - {group: "", version: v1, kind: ConfigMap, labelFilters: [{key: shard-event, operation: Has}]}
---
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventTrigger
metadata: {name: shard-trigger}
spec:
  sourceClusterSelector: {matchLabels: {shard-source: "yes"}}
  eventSourceName: shard-source
  oneForEvent: true
  policyRefs:
  - {kind: ConfigMap, namespace: default, name: shard-policy}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shard-policy, namespace: default}
data: {}
`))
	wl := clusterClient(t, "workload")
	ensureNamespace(t, wl, "shard-events")
	if err := wl.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shard-events", Name: "event", Labels: map[string]string{"shard-event": "x"}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // a chance to (wrongly) generate
	if n := len(generatedProfiles(t, "shard-trigger")); n != 0 {
		t.Fatalf("%d profiles generated for a cluster of another shard", n)
	}
	annotate("")
	testenv.Eventually(t, "generated once unsharded", func() error {
		if n := len(generatedProfiles(t, "shard-trigger")); n != 1 {
			return fmt.Errorf("%d generated profiles", n)
		}
		return nil
	})
}
