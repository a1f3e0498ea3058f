package clusterhealth

import (
	"bytes"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

func status(name string, hs libv1beta1.HealthStatus) libv1beta1.ResourceStatus {
	return libv1beta1.ResourceStatus{ObjectRef: corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: name}, HealthStatus: hs}
}

func TestUnitApplyFlapping(t *testing.T) {
	healthy, degraded := libv1beta1.HealthStatusHealthy, libv1beta1.HealthStatusDegraded
	pendingA := func(n int32) []libv1beta1.PendingResourceStatus {
		return []libv1beta1.PendingResourceStatus{{ObjectRef: status("a", degraded).ObjectRef, HealthStatus: degraded, ConsecutiveCount: n}}
	}
	for _, tc := range []struct {
		name        string
		count       bool
		evaluated   []libv1beta1.ResourceStatus
		previous    []libv1beta1.ResourceStatus
		pending     []libv1beta1.PendingResourceStatus
		wantReport  string
		wantPending string
	}{
		{"first Degraded is held back, last status kept", true, []libv1beta1.ResourceStatus{status("a", degraded)},
			[]libv1beta1.ResourceStatus{status("a", healthy)}, nil, "a=Healthy", "a=Degraded/1"},
		{"the third in a row is reported", true, []libv1beta1.ResourceStatus{status("a", degraded)},
			[]libv1beta1.ResourceStatus{status("a", healthy)}, pendingA(2), "a=Degraded", ""},
		{"a pass that does not count keeps the count", false, []libv1beta1.ResourceStatus{status("a", degraded)},
			[]libv1beta1.ResourceStatus{status("a", healthy)}, pendingA(1), "a=Healthy", "a=Degraded/1"},
		{"Healthy at once, pending dropped", true, []libv1beta1.ResourceStatus{status("a", healthy)},
			[]libv1beta1.ResourceStatus{status("a", healthy)}, pendingA(1), "a=Healthy", ""},
		{"already reported stays", true, []libv1beta1.ResourceStatus{status("a", degraded)},
			[]libv1beta1.ResourceStatus{status("a", degraded)}, nil, "a=Degraded", ""},
		{"new resource held back is not reported", true, []libv1beta1.ResourceStatus{status("b", degraded)},
			nil, nil, "", "b=Degraded/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			report, pending := applyFlapping(3, tc.count, tc.evaluated, tc.previous, tc.pending)
			gotReport, gotPending := "", ""
			for _, s := range report {
				gotReport += fmt.Sprintf("%s=%s", s.ObjectRef.Name, s.HealthStatus)
			}
			for _, p := range pending {
				gotPending += fmt.Sprintf("%s=%s/%d", p.ObjectRef.Name, p.HealthStatus, p.ConsecutiveCount)
			}
			if gotReport != tc.wantReport || gotPending != tc.wantPending {
				t.Fatalf("report %q pending %q, want %q %q", gotReport, gotPending, tc.wantReport, tc.wantPending)
			}
		})
	}
}

// The notified state ignores message wording: Provisioning → Failed of the
// same feature, or a changed failure message, is the same state.
func TestUnitAddonsStateIgnoresWording(t *testing.T) {
	lc := libv1beta1.LivenessCheck{Name: "addons", Type: libv1beta1.LivenessTypeAddons}
	summary := func(st libv1beta1.FeatureStatus, msg string) []configv1beta1.ClusterSummary {
		s := configv1beta1.ClusterSummary{}
		s.Labels = map[string]string{configv1beta1.ClusterProfileNameLabel: "web"}
		s.Status.FeatureSummaries = []configv1beta1.FeatureSummary{{FeatureID: libv1beta1.FeatureResources, Status: st, FailureMessage: &msg}}
		return []configv1beta1.ClusterSummary{s}
	}
	provisioning := addonsLiveness(summary(libv1beta1.FeatureStatusProvisioning, ""), lc)
	failed := addonsLiveness(summary(libv1beta1.FeatureStatusFailed, "rejected: Bogus"), lc)
	failedAgain := addonsLiveness(summary(libv1beta1.FeatureStatusFailed, "rejected: Bogus (attempt 2)"), lc)
	ok := addonsLiveness(summary(libv1beta1.FeatureStatusProvisioned, ""), lc)
	if failed.status != corev1.ConditionFalse || failed.message != "ClusterProfile/web feature Resources is Failed: rejected: Bogus" {
		t.Fatalf("failed: %s %q", failed.status, failed.message)
	}
	h := func(r livenessResult) []byte { return stateHash([]livenessResult{r}) }
	if !bytes.Equal(h(provisioning), h(failed)) || !bytes.Equal(h(failed), h(failedAgain)) {
		t.Fatal("the wording changed the notified state")
	}
	if bytes.Equal(h(failed), h(ok)) || ok.status != corev1.ConditionTrue {
		t.Fatal("recovery is not a new state")
	}
}
