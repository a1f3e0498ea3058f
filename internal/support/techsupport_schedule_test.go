package support_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A scheduled Techsupport records its next run; a run whose time has passed
// is collected late — unless it is later than startingDeadlineSeconds, when it
// is skipped and reported Failed. The test plays a manager that was down at
// the scheduled time by moving status.nextScheduleTime an hour back (through
// the status subresource); it never waits for a cron time to come.
func TestTechsupportSchedule(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline *int64
		want     libv1beta1.CollectionStatus
		archives int
	}{
		{name: "late-run", want: libv1beta1.CollectionStatusCollected, archives: 1},
		{name: "missed-deadline", deadline: ptr.To[int64](60), want: libv1beta1.CollectionStatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts := &libv1beta1.Techsupport{
				ObjectMeta: metav1.ObjectMeta{Name: "schedule-" + tc.name},
				Spec: libv1beta1.TechsupportSpec{
					// once a year: never due during the test by itself
					SchedulingConfig: &libv1beta1.SchedulingConfig{Schedule: "0 0 1 1 *", StartingDeadlineSeconds: tc.deadline},
					FromManagement: libv1beta1.FromManagement{Resources: []libv1beta1.ResourceSelector{
						{Version: "v1", Kind: "ConfigMap", Namespace: "kube-system"}}},
					Notifications: []libv1beta1.Notification{},
				},
			}
			create(t, mgmt, ts)
			got := &libv1beta1.Techsupport{}
			testenv.Eventually(t, "the next run scheduled", func() error {
				if err := mgmt.Get(ctx, types.NamespacedName{Name: ts.Name}, got); err != nil {
					return err
				}
				if next := got.Status.NextScheduleTime; next == nil || next.Month() != time.January || next.Day() != 1 {
					return fmt.Errorf("nextScheduleTime %v", got.Status.NextScheduleTime)
				}
				return nil
			})
			if got.Status.LastRunTime != nil || len(archivesOf(t, ts.Name)) != 0 {
				t.Fatalf("collected before its time: %+v", got.Status)
			}
			testenv.Eventually(t, "moving the scheduled time an hour back", func() error {
				if err := mgmt.Get(ctx, types.NamespacedName{Name: ts.Name}, got); err != nil {
					return err
				}
				scheduled := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
				got.Status.NextScheduleTime = &scheduled
				return mgmt.Status().Update(ctx, got)
			})
			done := waitRun(t, ts.Name, tc.archives, tc.want)
			if next := done.Status.NextScheduleTime; next == nil || !next.After(time.Now()) {
				t.Errorf("nextScheduleTime %v is not in the future", done.Status.NextScheduleTime)
			}
			if tc.deadline != nil && (done.Status.FailureMessage == nil || !strings.Contains(*done.Status.FailureMessage, "startingDeadlineSeconds (60s)")) {
				t.Errorf("failureMessage %v does not name the deadline", done.Status.FailureMessage)
			}
		})
	}
}
