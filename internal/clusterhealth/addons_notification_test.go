package clusterhealth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Acceptance: a ClusterHealthCheck over add-ons sends exactly one Slack-format
// message when a profile's deployment fails in a cluster (the API server
// rejects the object it deploys) and exactly one when it recovers — not one per
// reconcile, and not again after the manager restarts.
func TestAddonsNotifiesOncePerChange(t *testing.T) {
	ctx := context.Background()
	good := `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}`
	rejected := strings.Replace(good, `"ClusterIP"`, `"Bogus"`, 1)
	create(t, mgmt, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-service"},
		Data: map[string]string{"service.yaml": good}})
	profile := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	profile.Spec.ClusterSelector.MatchLabels = map[string]string{"env": "health"}
	profile.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "web-service"}}
	create(t, mgmt, profile)
	waitFeature(t, "web", libv1beta1.FeatureStatusProvisioned)

	slack := newSlackReceiver(t)
	create(t, mgmt, clusterHealthCheck("addons", []libv1beta1.LivenessCheck{{Name: "addons", Type: libv1beta1.LivenessTypeAddons}},
		slackNotification(t, "slack-addons", slack)))
	waitCondition(t, "addons", "addons", corev1.ConditionTrue)
	initial := slack.waitMessages(t, 1)[0]
	if !strings.Contains(initial.Text, "all liveness checks are passing") {
		t.Fatalf("initial message %+v", initial)
	}

	// The profile fails: the API server rejects the Service.
	setPolicyContent(t, "web-service", rejected)
	waitFeature(t, "web", libv1beta1.FeatureStatusFailed)
	waitCondition(t, "addons", "addons", corev1.ConditionFalse, "ClusterProfile/web feature Resources is Failed", "Bogus")
	failing := slack.waitMessages(t, 2)[1]
	if failing.Attachments[0].Color != "#e01e5a" || !strings.Contains(failing.Attachments[0].Text, `Liveness check "addons" failing`) ||
		!strings.Contains(failing.Attachments[0].Text, "ClusterProfile/web feature Resources is") {
		t.Fatalf("failure message %+v", failing)
	}
	// A reconcile we can see: a KubernetesEvent notification added now gets the
	// current state (it never had it), Slack does not get it again.
	addNotification(t, "addons", libv1beta1.Notification{Name: "events", Type: libv1beta1.NotificationTypeKubernetesEvent})
	waitDelivered(t, "addons", "events")
	waitEvent(t, "addons", "Cluster Sveltos:fleet/workload: liveness checks failing")
	slack.waitMessages(t, 2)

	// It recovers.
	setPolicyContent(t, "web-service", good)
	waitFeature(t, "web", libv1beta1.FeatureStatusProvisioned)
	waitCondition(t, "addons", "addons", corev1.ConditionTrue)
	recovered := slack.waitMessages(t, 3)[2]
	if recovered.Attachments[0].Color != "#2eb67d" || !strings.Contains(recovered.Text, "all liveness checks are passing") {
		t.Fatalf("recovery message %+v", recovered)
	}

	// A manager restart does not notify again: the notified state's hash is in status.
	stopManager()
	if err := startManager(ctx); err != nil {
		t.Fatal(err)
	}
	addNotification(t, "addons", libv1beta1.Notification{Name: "events-2", Type: libv1beta1.NotificationTypeKubernetesEvent})
	waitDelivered(t, "addons", "events-2")
	slack.waitMessages(t, 3)
}

func waitSummary(t *testing.T, profile string, check func(*configv1beta1.FeatureSummary) error) {
	t.Helper()
	name := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, profile, workload)
	testenv.Eventually(t, "summary of "+profile, func() error {
		s := &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: fleetNamespace, Name: name}, s); err != nil {
			return err
		}
		f := s.FeatureSummary(libv1beta1.FeatureResources)
		if f == nil {
			return fmt.Errorf("no Resources feature yet")
		}
		return check(f)
	})
}

func waitFeature(t *testing.T, profile string, want libv1beta1.FeatureStatus) {
	t.Helper()
	waitSummary(t, profile, func(f *configv1beta1.FeatureSummary) error {
		if f.Status != want {
			return fmt.Errorf("status %s (%s), want %s", f.Status, ptrString(f.FailureMessage), want)
		}
		return nil
	})
}

func setPolicyContent(t *testing.T, name, content string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{"service.yaml": content}
	if err := mgmt.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
}

func addNotification(t *testing.T, chcName string, n libv1beta1.Notification) {
	t.Helper()
	updateClusterHealthCheck(t, chcName, func(c *libv1beta1.ClusterHealthCheck) {
		c.Spec.Notifications = append(c.Spec.Notifications, n)
	})
}

// updateClusterHealthCheck changes the spec, again on conflicts with the controller's status writes.
func updateClusterHealthCheck(t *testing.T, name string, change func(*libv1beta1.ClusterHealthCheck)) {
	t.Helper()
	testenv.Update(t, mgmt, types.NamespacedName{Name: name}, &libv1beta1.ClusterHealthCheck{}, change)
}

// waitDelivered waits until notification n is Delivered for the workload cluster.
func waitDelivered(t *testing.T, chcName, n string) {
	t.Helper()
	testenv.Eventually(t, "notification "+n+" delivered", func() error {
		chc := &libv1beta1.ClusterHealthCheck{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: chcName}, chc); err != nil {
			return err
		}
		for _, cc := range chc.Status.ClusterConditions {
			for _, s := range cc.NotificationSummaries {
				if s.Name == n && s.Status == libv1beta1.NotificationStatusDelivered {
					return nil
				}
			}
		}
		return fmt.Errorf("summaries %+v", chc.Status.ClusterConditions)
	})
}
