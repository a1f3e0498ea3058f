package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// An EventTrigger's Ready condition says whether the events of its source
// clusters were processed: a cluster selector that does not compile stalls it
// (InvalidSpec; clusterInfo only ever holds clusters); a failure in some source
// clusters makes it False, naming them; when every source cluster is processed
// it is True.
func TestEventTriggerReadyCondition(t *testing.T) {
	ctx := context.Background()
	const name = "events-trigger-ready"
	trigger := &libv1beta1.EventTrigger{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.EventTriggerSpec{
			SourceClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"not a label key!": "x"}}},
			// One EventSource per source cluster: a missing one fails that cluster only.
			EventSourceName: name + "-{{ .Cluster.metadata.name }}",
		},
	}
	if err := mgmt.Create(ctx, trigger); err != nil {
		t.Fatal(err)
	}
	waitTriggerReady(t, name, func(tr *libv1beta1.EventTrigger, ready *metav1.Condition) error {
		if ready.Status != metav1.ConditionFalse || ready.Reason != conditions.InvalidSpec || !conditions.IsTrue(tr, conditions.Stalled) {
			return fmt.Errorf("ready %s/%s: %s", ready.Status, ready.Reason, ready.Message)
		}
		if !strings.Contains(ready.Message, "sourceClusterSelector") || !strings.Contains(ready.Message, "not a label key!") {
			return fmt.Errorf("message %q does not name the selector", ready.Message)
		}
		if len(tr.Status.ClusterInfo) != 0 {
			return fmt.Errorf("clusterInfo %+v, want none", tr.Status.ClusterInfo)
		}
		return nil
	})

	createSource := func(cluster string) {
		t.Helper()
		source := &libv1beta1.EventSource{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-" + cluster},
			Spec:       libv1beta1.EventSourceSpec{ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Name: name}}},
		}
		if err := mgmt.Create(ctx, source); err != nil {
			t.Fatal(err)
		}
	}
	createSource("services")
	setLabels(t, "services", map[string]string{name: "source"})
	defer setLabels(t, "services", map[string]string{name: ""})
	setLabels(t, "workload", map[string]string{name: "source"})
	defer setLabels(t, "workload", map[string]string{name: ""})
	// A merge patch: the controller's status writes cannot conflict with it.
	fixed := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"sourceClusterSelector":{"matchLabels":{"not a label key!":null,"`+name+`":"source"}}}}`))
	if err := mgmt.Patch(ctx, trigger, fixed); err != nil {
		t.Fatal(err)
	}
	waitTriggerReady(t, name, func(_ *libv1beta1.EventTrigger, ready *metav1.Condition) error {
		if ready.Status != metav1.ConditionFalse || ready.Reason != conditions.Failed {
			return fmt.Errorf("ready %s/%s: %s", ready.Status, ready.Reason, ready.Message)
		}
		want := fleetNamespace + "/workload: EventSource " + name + "-workload not found"
		if !strings.Contains(ready.Message, want) || strings.Contains(ready.Message, fleetNamespace+"/services") {
			return fmt.Errorf("message %q should name only %q", ready.Message, want)
		}
		return nil
	})

	createSource("workload")
	waitTriggerReady(t, name, func(tr *libv1beta1.EventTrigger, ready *metav1.Condition) error {
		if ready.Status != metav1.ConditionTrue || ready.Reason != conditions.Succeeded {
			return fmt.Errorf("ready %s/%s: %s", ready.Status, ready.Reason, ready.Message)
		}
		if conditions.Get(tr, conditions.Stalled) != nil || conditions.Get(tr, conditions.Reconciling) != nil {
			return fmt.Errorf("conditions %+v", tr.Status.Conditions)
		}
		return nil
	})
}

// waitTriggerReady waits until the EventTrigger's Ready condition, for its
// current generation, passes check.
func waitTriggerReady(t *testing.T, name string, check func(*libv1beta1.EventTrigger, *metav1.Condition) error) {
	t.Helper()
	testenv.Eventually(t, "Ready of EventTrigger "+name, func() error {
		tr := &libv1beta1.EventTrigger{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, tr); err != nil {
			return err
		}
		ready := conditions.Get(tr, conditions.Ready)
		if ready == nil || ready.ObservedGeneration != tr.Generation {
			return fmt.Errorf("no Ready condition for generation %d: %+v", tr.Generation, tr.Status.Conditions)
		}
		return check(tr, ready)
	})
}
