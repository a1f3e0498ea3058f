package clusterhealth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Bad input: a script that does not compile or returns nonsense puts a precise
// agentFailureMessage on the report (the last good statuses stay) and an Event
// on the HealthCheck; a notification whose Secret is missing is FailedToDeliver
// with the cause and an Event, and is delivered once the Secret exists.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	create(t, workloadClient(t), namespace("hc-bad"), stateConfigMap("hc-bad", "a", "good"))
	create(t, mgmt, healthCheck("bad", "hc-bad", stateScript))
	missing := libv1beta1.Notification{Name: "slack", Type: libv1beta1.NotificationTypeSlack,
		NotificationRef: &corev1.ObjectReference{Kind: "Secret", Namespace: "default", Name: "slack-bad"}}
	create(t, mgmt, clusterHealthCheck("bad", []libv1beta1.LivenessCheck{healthCheckLiveness("resources", "bad")}, missing))
	waitReport(t, "bad", statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy"}))

	for _, tc := range []struct{ name, script, want string }{
		{"does not compile", "function evaluate( return {} end", "evaluateHealth: parsing Lua"},
		{"unknown status", `function evaluate() return {resources = {{resource = resources[1], healthStatus = "Fine"}}} end`,
			`evaluate() returned healthStatus "Fine" for ConfigMap v1 hc-bad/a`},
		{"runtime error", `function evaluate() error("no way") end`, "no way"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			updateHealthCheck(t, "bad", func(hc *libv1beta1.HealthCheck) { hc.Spec.EvaluateHealth = tc.script })
			waitReport(t, "bad", func(r *libv1beta1.HealthCheckReport) error {
				if !strings.Contains(ptrString(r.Status.AgentFailureMessage), tc.want) {
					return fmt.Errorf("agentFailureMessage %q, want %q", ptrString(r.Status.AgentFailureMessage), tc.want)
				}
				return statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy"})(r)
			})
			waitEvent(t, "bad", tc.want)
		})
	}
	updateHealthCheck(t, "bad", func(hc *libv1beta1.HealthCheck) { hc.Spec.EvaluateHealth = stateScript })
	waitReport(t, "bad", func(r *libv1beta1.HealthCheckReport) error {
		if r.Status.AgentFailureMessage != nil {
			return fmt.Errorf("agentFailureMessage %q still there", *r.Status.AgentFailureMessage)
		}
		return nil
	})

	// The missing Secret.
	testenv.Eventually(t, "FailedToDeliver", func() error {
		chc := &libv1beta1.ClusterHealthCheck{}
		if err := mgmt.Get(ctx, types.NamespacedName{Name: "bad"}, chc); err != nil {
			return err
		}
		for _, cc := range chc.Status.ClusterConditions {
			for _, s := range cc.NotificationSummaries {
				if s.Status == libv1beta1.NotificationStatusFailedToDeliver &&
					strings.Contains(ptrString(s.FailureMessage), "Secret default/slack-bad not found") {
					return nil
				}
			}
		}
		return fmt.Errorf("conditions %+v", chc.Status.ClusterConditions)
	})
	waitEvent(t, "bad", "Secret default/slack-bad not found")
	slack := newSlackReceiver(t)
	slackNotification(t, "slack-bad", slack)
	waitDelivered(t, "bad", "slack")
	slack.waitMessages(t, 1)
}

func updateHealthCheck(t *testing.T, name string, change func(*libv1beta1.HealthCheck)) {
	t.Helper()
	testenv.Update(t, mgmt, types.NamespacedName{Name: name}, &libv1beta1.HealthCheck{}, change)
}

// waitEvent waits for an Event regarding the object named name whose note holds part.
func waitEvent(t *testing.T, name, part string) {
	t.Helper()
	testenv.Eventually(t, "an Event about "+name, func() error {
		list := &eventsv1.EventList{}
		if err := mgmt.List(context.Background(), list, client.InNamespace(metav1.NamespaceDefault)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == name && strings.Contains(e.Note, part) {
				if strings.Contains(part, "liveness checks") && e.Reason != "ClusterHealthCheck" {
					return fmt.Errorf("reason %s, want ClusterHealthCheck", e.Reason)
				}
				return nil
			}
		}
		return fmt.Errorf("none among %d events", len(list.Items))
	})
}
