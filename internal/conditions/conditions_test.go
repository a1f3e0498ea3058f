package conditions_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboat-dev/tugboat/internal/conditions"
)

type holder struct {
	generation int64
	conditions []metav1.Condition
}

func (h *holder) GetGeneration() int64               { return h.generation }
func (h *holder) GetConditions() *[]metav1.Condition { return &h.conditions }

func TestMarkers(t *testing.T) {
	type want struct {
		ready                metav1.ConditionStatus
		reason               string
		reconciling, stalled bool
	}
	for _, tc := range []struct {
		name string
		mark func(conditions.Holder)
		want want
	}{
		{"ready", func(h conditions.Holder) { conditions.MarkReady(h, "deployed to %d clusters", 3) },
			want{metav1.ConditionTrue, conditions.Succeeded, false, false}},
		{"reconciling", func(h conditions.Holder) { conditions.MarkReconciling(h, conditions.Progressing, "2 of 3 clusters") },
			want{metav1.ConditionUnknown, conditions.Progressing, true, false}},
		{"failed", func(h conditions.Holder) { conditions.MarkFailed(h, conditions.Failed, "cluster a/b unreachable") },
			want{metav1.ConditionFalse, conditions.Failed, false, false}},
		{"stalled", func(h conditions.Holder) { conditions.MarkStalled(h, conditions.InvalidSpec, "selector: bad") },
			want{metav1.ConditionFalse, conditions.InvalidSpec, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &holder{generation: 7}
			// Start from the opposite state so that removals are visible.
			conditions.MarkTrue(h, conditions.Reconciling, "x", "x")
			conditions.MarkTrue(h, conditions.Stalled, "x", "x")
			tc.mark(h)
			ready := conditions.Get(h, conditions.Ready)
			if ready == nil || ready.Status != tc.want.ready || ready.Reason != tc.want.reason || ready.ObservedGeneration != 7 {
				t.Fatalf("Ready = %+v, want %s/%s at generation 7", ready, tc.want.ready, tc.want.reason)
			}
			if got := conditions.IsTrue(h, conditions.Reconciling); got != tc.want.reconciling {
				t.Errorf("Reconciling = %v, want %v", got, tc.want.reconciling)
			}
			if got := conditions.IsTrue(h, conditions.Stalled); got != tc.want.stalled {
				t.Errorf("Stalled = %v, want %v", got, tc.want.stalled)
			}
		})
	}
}

func TestMessageFormatting(t *testing.T) {
	h := &holder{}
	conditions.MarkFailed(h, conditions.Failed, "100%% of %d", 2)
	if got := conditions.Get(h, conditions.Ready).Message; got != "100% of 2" {
		t.Errorf("message %q", got)
	}
}
