package support_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// The CRDs refuse what the controllers could not honour, with a message naming the field.
func TestSupportValidationRejects(t *testing.T) {
	techsupport := func(name string, spec libv1beta1.TechsupportSpec) *libv1beta1.Techsupport {
		if spec.Notifications == nil {
			spec.Notifications = []libv1beta1.Notification{}
		}
		return &libv1beta1.Techsupport{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	}
	debugging := func(c libv1beta1.Component, l libv1beta1.LogLevel) *libv1beta1.DebuggingConfiguration {
		return &libv1beta1.DebuggingConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "rejected"},
			Spec: libv1beta1.DebuggingConfigurationSpec{Configuration: []libv1beta1.ComponentConfiguration{{Component: c, LogLevel: l}}}}
	}
	for _, tc := range []struct {
		name string
		obj  client.Object
		want string
	}{
		{"unknown component", debugging("Scheduler", libv1beta1.LogLevelDebug), "spec.configuration[0].component"},
		{"unknown log level", debugging(libv1beta1.ComponentEventManager, "LogLevelTrace"), "spec.configuration[0].logLevel"},
		{"empty schedule", techsupport("v-schedule", libv1beta1.TechsupportSpec{SchedulingConfig: &libv1beta1.SchedulingConfig{}}), "spec.schedulingConfig.schedule"},
		{"negative deadline", techsupport("v-deadline", libv1beta1.TechsupportSpec{SchedulingConfig: &libv1beta1.SchedulingConfig{
			Schedule: "@daily", StartingDeadlineSeconds: ptr.To[int64](-1)}}), "spec.schedulingConfig.startingDeadlineSeconds"},
		{"event type", techsupport("v-event", libv1beta1.TechsupportSpec{FromManagement: libv1beta1.FromManagement{
			Events: []libv1beta1.Event{{Type: "Error"}}}}), "spec.fromManagement.events[0].type"},
		{"zero sinceSeconds", techsupport("v-since", libv1beta1.TechsupportSpec{FromManaged: libv1beta1.FromManaged{
			Logs: []libv1beta1.Log{{SinceSeconds: ptr.To[int64](0)}}}}), "spec.fromManaged.logs[0].sinceSeconds"},
		{"notification without its Secret", techsupport("v-slack", libv1beta1.TechsupportSpec{Notifications: []libv1beta1.Notification{
			{Name: "slack", Type: libv1beta1.NotificationTypeSlack}}}), "notificationRef naming a Secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mgmt.Create(context.Background(), tc.obj)
			if err == nil {
				_ = mgmt.Delete(context.Background(), tc.obj)
				t.Fatalf("accepted; want a rejection naming %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("rejected with %q; want it to name %s", err, tc.want)
			}
		})
	}
}
