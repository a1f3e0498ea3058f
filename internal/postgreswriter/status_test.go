package postgreswriter

import (
	"strings"
	"testing"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	demov1 "github.com/tugboat-dev/tugboat/api/demo/v1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

// Each outcome of a reconcile, from any earlier state: the Ready condition,
// Stalled only for a spec that must change, and the generation observed.
func TestUnitReadyCondition(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mark    func(*demov1.PostgresWriter)
		ready   metav1.ConditionStatus
		reason  string
		stalled bool
	}{
		{"row written", func(pw *demov1.PostgresWriter) { markRowWritten(pw, "row written") },
			metav1.ConditionTrue, ReasonRowWritten, false},
		{"database down", func(pw *demov1.PostgresWriter) { markFailed(pw, ReasonDatabaseUnavailable, "dial tcp: refused") },
			metav1.ConditionFalse, ReasonDatabaseUnavailable, false},
		{"invalid table name", func(pw *demov1.PostgresWriter) { markStalled(pw, ReasonInvalidTableName, "spec.table is refused") },
			metav1.ConditionFalse, ReasonInvalidTableName, true},
	} {
		for _, earlier := range []string{"none", "stalled", "written"} {
			t.Run(tc.name+" after "+earlier, func(t *testing.T) {
				pw := &demov1.PostgresWriter{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
				switch earlier {
				case "stalled":
					markStalled(pw, ReasonInvalidTableName, "before")
				case "written":
					markRowWritten(pw, "before")
				}
				pw.Generation = 5
				tc.mark(pw)
				c := conditions.Get(pw, conditions.Ready)
				if c == nil || c.Status != tc.ready || c.Reason != tc.reason || c.ObservedGeneration != 5 {
					t.Fatalf("Ready = %+v, want %s/%s at generation 5", c, tc.ready, tc.reason)
				}
				if got := conditions.IsTrue(pw, conditions.Stalled); got != tc.stalled {
					t.Errorf("Stalled = %v, want %v", got, tc.stalled)
				}
				if pw.Status.ObservedGeneration != 5 {
					t.Errorf("status.observedGeneration %d, want 5", pw.Status.ObservedGeneration)
				}
			})
		}
	}
}

// Long errors are cut to a valid UTF-8 message of at most maxMessage bytes.
func TestUnitBoundMessage(t *testing.T) {
	for _, msg := range []string{"short", strings.Repeat("é", maxMessage), strings.Repeat("x", 5*maxMessage)} {
		got := boundMessage(msg)
		if len(got) > maxMessage || !utf8.ValidString(got) || (len(msg) <= maxMessage && got != msg) {
			t.Errorf("boundMessage(%d bytes) = %d bytes, valid UTF-8 %v", len(msg), len(got), utf8.ValidString(got))
		}
	}
}
