package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// An EventSource is Ready when every selector compiles. A CEL rule or Lua script
// that does not compile stalls it (Ready False, reason InvalidSpec) with a message
// naming the selector and the compile error; fixing it makes it Ready.
func TestEventSourceReadyCondition(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		broken   libv1beta1.ResourceSelector
		fixed    libv1beta1.ResourceSelector
		messages []string
	}{{
		name:     "events-source-ready-cel",
		broken:   libv1beta1.ResourceSelector{Version: "v1", Kind: "ConfigMap", EvaluateCEL: []libv1beta1.CELRule{{Name: "broken", Rule: "resource.("}}},
		fixed:    libv1beta1.ResourceSelector{Version: "v1", Kind: "ConfigMap", EvaluateCEL: []libv1beta1.CELRule{{Name: "broken", Rule: "has(resource.data)"}}},
		messages: []string{"resourceSelectors[1]", "evaluateCEL[0] (broken)"},
	}, {
		name:     "events-source-ready-lua",
		broken:   libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", Evaluate: "function evaluate( return"},
		fixed:    libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", Evaluate: "function evaluate()\n  return {matching = true}\nend"},
		messages: []string{"resourceSelectors[1]", "v1/Secret: evaluate: "},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			valid := libv1beta1.ResourceSelector{Version: "v1", Kind: "ConfigMap"}
			source := &libv1beta1.EventSource{
				ObjectMeta: metav1.ObjectMeta{Name: tc.name},
				Spec:       libv1beta1.EventSourceSpec{ResourceSelectors: []libv1beta1.ResourceSelector{valid, tc.broken}},
			}
			if err := mgmt.Create(ctx, source); err != nil {
				t.Fatal(err)
			}
			waitSourceReady(t, source, func(ready *metav1.Condition) error {
				if ready.Status != metav1.ConditionFalse || ready.Reason != conditions.InvalidSpec || !conditions.IsTrue(source, conditions.Stalled) {
					return fmt.Errorf("ready %s/%s, stalled %v", ready.Status, ready.Reason, conditions.IsTrue(source, conditions.Stalled))
				}
				for _, want := range tc.messages {
					if !strings.Contains(ready.Message, want) {
						return fmt.Errorf("message %q lacks %q", ready.Message, want)
					}
				}
				return nil
			})

			source.Spec.ResourceSelectors[1] = tc.fixed
			if err := mgmt.Update(ctx, source); err != nil {
				t.Fatal(err)
			}
			waitSourceReady(t, source, func(ready *metav1.Condition) error {
				if ready.Status != metav1.ConditionTrue || ready.Reason != conditions.Succeeded || conditions.Get(source, conditions.Stalled) != nil {
					return fmt.Errorf("ready %s/%s: %s", ready.Status, ready.Reason, ready.Message)
				}
				if !conditions.IsTrue(source, "SelectorsValid") {
					return fmt.Errorf("SelectorsValid not True: %+v", source.Status.Conditions)
				}
				return nil
			})
		})
	}
}

// waitSourceReady waits until the EventSource's Ready condition, for its current
// generation, passes check. source is refreshed from the API server.
func waitSourceReady(t *testing.T, source *libv1beta1.EventSource, check func(*metav1.Condition) error) {
	t.Helper()
	testenv.Eventually(t, "Ready of EventSource "+source.Name, func() error {
		if err := mgmt.Get(context.Background(), client.ObjectKeyFromObject(source), source); err != nil {
			return err
		}
		ready := conditions.Get(source, conditions.Ready)
		if ready == nil || ready.ObservedGeneration != source.Generation {
			return fmt.Errorf("no Ready condition for generation %d: %+v", source.Generation, source.Status.Conditions)
		}
		return check(ready)
	})
}
