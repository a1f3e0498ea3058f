package clusterhealth_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// A HealthCheck referenced by a ClusterHealthCheck is evaluated in each
// selected cluster from watches held by the manager (nothing runs in the
// cluster): its report, sveltos--<healthcheck>--<cluster> in the cluster's
// namespace, follows the resources; collectResources copies them in, except
// Secrets; the ClusterHealthCheck's condition and a Slack message follow.
func TestHealthCheckReportFollowsResources(t *testing.T) {
	wl := workloadClient(t)
	create(t, wl, namespace("hc-basic"), stateConfigMap("hc-basic", "a", "good"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "hc-basic", Name: "s", Labels: map[string]string{"app": "hc-test"}},
			StringData: map[string]string{"password": "do-not-copy"}},
		stateConfigMap("hc-basic", "unlabelled", "bad"))
	unlabelled := stateConfigMap("hc-basic", "other", "bad")
	unlabelled.Labels = nil
	create(t, wl, unlabelled)

	hc := healthCheck("basic", "hc-basic", stateScript)
	hc.Spec.CollectResources = true
	hc.Spec.ResourceSelectors = append(hc.Spec.ResourceSelectors, libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret",
		Namespace: "hc-basic", LabelFilters: hc.Spec.ResourceSelectors[0].LabelFilters})
	create(t, mgmt, hc)
	slack := newSlackReceiver(t)
	create(t, mgmt, clusterHealthCheck("basic", []libv1beta1.LivenessCheck{healthCheckLiveness("resources", "basic")},
		slackNotification(t, "slack-basic", slack)))

	// "unlabelled" carries app=hc-test but state bad.
	report := waitReport(t, "basic", statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy", "s": "Healthy", "unlabelled": "Degraded"}))
	if report.Labels[libv1beta1.HealthCheckNameLabel] != "basic" || report.Labels[libv1beta1.HealthCheckReportClusterNameLabel] != workload ||
		report.Labels[libv1beta1.HealthCheckReportClusterTypeLabel] != "sveltos" || report.Spec.ClusterType != libv1beta1.ClusterTypeSveltos {
		t.Errorf("report labels/spec: %v %+v", report.Labels, report.Spec)
	}
	for _, s := range report.Spec.ResourceStatuses {
		switch s.ObjectRef.Kind {
		case "ConfigMap":
			if !strings.Contains(string(s.Resource), "state:") {
				t.Errorf("collected %s: %q", s.ObjectRef.Name, s.Resource)
			}
		case "Secret":
			if len(s.Resource) != 0 {
				t.Errorf("the Secret was copied into the report: %q", s.Resource)
			}
		}
	}
	waitCondition(t, "basic", "resources", corev1.ConditionFalse, "ConfigMap v1 hc-basic/unlabelled is Degraded: state is bad")
	first := slack.waitMessages(t, 1)[0]
	if first.Channel != "C0HEALTH" || first.Attachments[0].Color != "#e01e5a" ||
		!strings.Contains(first.Attachments[0].Text, "state is bad") || !strings.Contains(first.Text, "Cluster Sveltos:fleet/workload") {
		t.Errorf("first message %+v", first)
	}

	// Fixing the resource turns everything healthy: one more message, green.
	setState(t, "hc-basic", "unlabelled", "good")
	waitReport(t, "basic", statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy", "s": "Healthy", "unlabelled": "Healthy"}))
	waitCondition(t, "basic", "resources", corev1.ConditionTrue)
	second := slack.waitMessages(t, 2)[1]
	if second.Attachments[0].Color != "#2eb67d" || !strings.Contains(second.Text, "all liveness checks are passing") {
		t.Errorf("second message %+v", second)
	}

	// The report is owned by the HealthCheck, and one deleted by hand comes back.
	if len(report.OwnerReferences) != 1 || report.OwnerReferences[0].Kind != libv1beta1.HealthCheckKind || report.OwnerReferences[0].Name != "basic" {
		t.Errorf("owner references %+v", report.OwnerReferences)
	}
	if err := mgmt.Delete(t.Context(), report); err != nil {
		t.Fatal(err)
	}
	waitReport(t, "basic", func(r *libv1beta1.HealthCheckReport) error {
		if r.UID == report.UID {
			return fmt.Errorf("not recreated yet")
		}
		return statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy", "s": "Healthy", "unlabelled": "Healthy"})(r)
	})

	// A resource that goes away leaves the report.
	if err := wl.Delete(t.Context(), stateConfigMap("hc-basic", "a", "")); err != nil {
		t.Fatal(err)
	}
	waitReport(t, "basic", statusesAre(map[string]libv1beta1.HealthStatus{"s": "Healthy", "unlabelled": "Healthy"}))

	// The ClusterHealthCheck lists the cluster.
	chc := waitCondition(t, "basic", "resources", corev1.ConditionTrue)
	if len(chc.Status.MatchingClusterRefs) != 1 || chc.Status.MatchingClusterRefs[0].Name != workload {
		t.Errorf("matchingClusters %v", chc.Status.MatchingClusterRefs)
	}
	if got := fmt.Sprint(chc.Status.ClusterConditions[0].NotificationSummaries); !strings.Contains(got, "Delivered") {
		t.Errorf("notificationSummaries %s", got)
	}
}
