package dashboard_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The events page shows, per EventSource and source cluster, how many
// resources it matches there and the time of the last event: the time the
// trigger controller stamps on the EventReport (EventObservedAnnotation) in
// the write that records a change of the matches. A new matching resource
// is a new event: the page shows the new stamp.
func TestEventsPageShowsLastEventTimes(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	key := types.NamespacedName{Namespace: f.app.Namespace, Name: libv1beta1.EventReportName("dash-requests", f.app.Name)}

	// stamp waits for the report to match n resources and returns its stamp as the page shows it.
	stamp := func(n int) string {
		var shown string
		testenv.Eventually(t, fmt.Sprintf("EventReport %s matches %d resources", key, n), func() error {
			report := &libv1beta1.EventReport{}
			if err := mgmt.Get(ctx, key, report); err != nil {
				return err
			}
			if got := len(report.Spec.MatchingResources); got != n {
				return fmt.Errorf("%d matching", got)
			}
			at, err := time.Parse(time.RFC3339Nano, report.Annotations[libv1beta1.EventObservedAnnotation])
			if err != nil {
				return fmt.Errorf("the report's event time: %w", err)
			}
			shown = at.UTC().Format(time.RFC3339)
			return nil
		})
		return shown
	}
	first := stamp(1)
	eventuallyShows(t, "/events", "EventTrigger dash-trigger",
		fmt.Sprintf("EventSource dash-requests in cluster matching last event report %s 1 %s Processed", f.app, first))

	createInApp(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "dash-requests", Name: "another"}})
	second := stamp(2)
	eventuallyShows(t, "/events", fmt.Sprintf("%s 2 %s Processed", f.app, second))
}
