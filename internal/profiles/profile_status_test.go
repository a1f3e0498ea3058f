package profiles

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

func TestUnitMaxUpdateBudget(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxUpdate *intstr.IntOrString
		total     int
		want      int
		wantErr   bool
	}{
		{name: "unset is every cluster", total: 5, want: 5},
		{name: "unset without clusters is one", total: 0, want: 1},
		{name: "a number", maxUpdate: ptr(intstr.FromInt32(2)), total: 5, want: 2},
		{name: "zero is at least one", maxUpdate: ptr(intstr.FromInt32(0)), total: 5, want: 1},
		{name: "a percentage rounds up", maxUpdate: ptr(intstr.FromString("50%")), total: 3, want: 2},
		{name: "a small percentage is at least one", maxUpdate: ptr(intstr.FromString("10%")), total: 3, want: 1},
		{name: "not a percentage", maxUpdate: ptr(intstr.FromString("half")), total: 3, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := maxUpdateBudget(tc.maxUpdate, tc.total)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("budget %d, want %d", got, tc.want)
			}
		})
	}
}

// summaryWith is a summary of cluster fleet/<cluster> with the given feature statuses.
func summaryWith(cluster string, features ...configv1beta1.FeatureSummary) configv1beta1.ClusterSummary {
	s := configv1beta1.ClusterSummary{}
	s.Namespace, s.Name = "fleet", "p-"+cluster
	s.Spec.ClusterNamespace, s.Spec.ClusterName = "fleet", cluster
	s.Generation, s.Status.ObservedGeneration = 2, 2
	s.Status.FeatureSummaries = features
	return s
}

func feature(id libv1beta1.FeatureID, status libv1beta1.FeatureStatus, msg string) configv1beta1.FeatureSummary {
	fs := configv1beta1.FeatureSummary{FeatureID: id, Status: status}
	if msg != "" {
		fs.FailureMessage = &msg
	}
	return fs
}

func TestUnitFailedClusters(t *testing.T) {
	summaries := []configv1beta1.ClusterSummary{
		summaryWith("ok", feature(libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned, "")),
		summaryWith("two", feature(libv1beta1.FeatureResources, libv1beta1.FeatureStatusFailed, "bad template"),
			feature(libv1beta1.FeatureHelm, libv1beta1.FeatureStatusFailed, "no such version")),
		summaryWith("unwanted", feature(libv1beta1.FeatureResources, libv1beta1.FeatureStatusFailed, "ignored")),
		summaryWith("silent", feature(libv1beta1.FeatureResources, libv1beta1.FeatureStatusFailed, "")),
	}
	wanted := map[string]bool{"fleet/p-ok": true, "fleet/p-two": true, "fleet/p-silent": true}
	got := failedClusters(summaries, wanted)
	if len(got) != 1 {
		t.Fatalf("failed clusters %+v, want only fleet/two", got)
	}
	if ref := got[0].ClusterRef; ref.Namespace != "fleet" || ref.Name != "two" || ref.Kind != libv1beta1.SveltosClusterKind {
		t.Errorf("cluster %+v", ref)
	}
	if want := "Resources: bad template; Helm: no such version"; got[0].FailureMessage != want {
		t.Errorf("message %q, want %q", got[0].FailureMessage, want)
	}
}

func TestUnitProvisioned(t *testing.T) {
	stale := summaryWith("a", feature(libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned, ""))
	stale.Generation = 3
	for _, tc := range []struct {
		name string
		s    configv1beta1.ClusterSummary
		want bool
	}{
		{"every feature provisioned", summaryWith("a", feature(libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned, ""),
			feature(libv1beta1.FeatureHelm, libv1beta1.FeatureStatusProvisioned, "")), true},
		{"no feature", summaryWith("a"), true},
		{"one provisioning", summaryWith("a", feature(libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned, ""),
			feature(libv1beta1.FeatureHelm, libv1beta1.FeatureStatusProvisioning, "")), false},
		{"one failed", summaryWith("a", feature(libv1beta1.FeatureHelm, libv1beta1.FeatureStatusFailed, "x")), false},
		{"spec not observed yet", stale, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := provisioned(&tc.s); got != tc.want {
				t.Errorf("provisioned %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnitMarkProgress(t *testing.T) {
	failed := []configv1beta1.FailedCluster{{FailureMessage: "Resources: bad template"}}
	failed[0].ClusterRef.Namespace, failed[0].ClusterRef.Name = "fleet", "app-1"
	for _, tc := range []struct {
		name                string
		matching, provision int
		failed              []configv1beta1.FailedCluster
		ready               metav1.ConditionStatus
		reason, message     string
		reconciling         bool
	}{
		{"every cluster provisioned", 3, 3, nil, metav1.ConditionTrue, conditions.Succeeded, "3 of 3 clusters provisioned", false},
		{"no matching cluster", 0, 0, nil, metav1.ConditionTrue, conditions.Succeeded, "0 of 0 clusters provisioned", false},
		{"some provisioning", 3, 2, nil, metav1.ConditionUnknown, conditions.Progressing, "2 of 3 clusters provisioned", true},
		{"a failed cluster", 3, 1, failed, metav1.ConditionFalse, conditions.Failed,
			"1 of 3 clusters failed: fleet/app-1: Resources: bad template", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &configv1beta1.ClusterProfile{}
			p.Generation = 4
			// A stalled profile (invalid selector) recovers on its next computation.
			conditions.MarkStalled(p, conditions.InvalidSpec, "clusterSelector: invalid")
			markProgress(p, tc.matching, tc.provision, tc.failed)
			ready := meta.FindStatusCondition(p.Status.Conditions, conditions.Ready)
			if ready == nil || ready.Status != tc.ready || ready.Reason != tc.reason || ready.Message != tc.message || ready.ObservedGeneration != 4 {
				t.Errorf("Ready %+v, want %s %s %q", ready, tc.ready, tc.reason, tc.message)
			}
			if got := conditions.IsTrue(p, conditions.Reconciling); got != tc.reconciling {
				t.Errorf("Reconciling %v, want %v", got, tc.reconciling)
			}
			if conditions.Get(p, conditions.Stalled) != nil {
				t.Error("Stalled still set")
			}
		})
	}
}

func TestUnitMarkProgressBoundsTheMessage(t *testing.T) {
	var failed []configv1beta1.FailedCluster
	for range 100 {
		failed = append(failed, configv1beta1.FailedCluster{FailureMessage: string(make([]byte, 100))})
	}
	p := &configv1beta1.ClusterProfile{}
	markProgress(p, 100, 0, failed)
	if n := len(conditions.Get(p, conditions.Ready).Message); n > maxReadyMessage {
		t.Errorf("message of %d bytes, want at most %d", n, maxReadyMessage)
	}
}
