package clusterpromotion

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Every field of profileSpec reaches the generated ClusterProfile, with the
// stage's selector: a field added to ProfileSpec and not copied fails here.
func TestUnitProfileSpecForCopiesEveryField(t *testing.T) {
	two := intstr.FromInt32(2)
	failures := int32(3)
	check := libv1beta1.ValidateHealth{Name: "c", FeatureID: libv1beta1.FeatureResources, Version: "v1", Kind: "ConfigMap"}
	ref := libv1beta1.PolicyRef{Kind: "ConfigMap", Namespace: "default", Name: "x"}
	p := configv1beta1.ProfileSpec{
		SyncMode: libv1beta1.SyncModeContinuous, Tier: 7, ContinueOnConflict: true, ContinueOnError: true, MaxUpdate: &two,
		StopMatchingBehavior: libv1beta1.StopMatchingBehavior("LeavePolicies"), Reloader: true,
		TemplateResourceRefs: []libv1beta1.TemplateResourceRef{{Identifier: "id"}}, DependsOn: []string{"base"},
		PolicyRefs: []libv1beta1.PolicyRef{ref}, HelmCharts: []libv1beta1.HelmChart{{ReleaseName: "r"}},
		KustomizationRefs: []libv1beta1.KustomizationRef{{Kind: "ConfigMap", Name: "k"}}, ValidateHealths: []libv1beta1.ValidateHealth{check},
		Patches: []libv1beta1.Patch{{Patch: "p"}}, PatchesFrom: []libv1beta1.ValueFrom{{Kind: "ConfigMap", Name: "v"}},
		DriftExclusions: []libv1beta1.DriftExclusion{{Paths: []string{"/spec"}}}, MaxConsecutiveFailures: &failures,
		PreDeleteChecks: []libv1beta1.ValidateHealth{check}, PostDeleteChecks: []libv1beta1.ValidateHealth{check},
	}
	// Every field set: none may be left at its zero value, or the test proves nothing.
	v := reflect.ValueOf(p)
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Fatalf("set ProfileSpec.%s in this test", v.Type().Field(i).Name)
		}
	}
	stage := configv1beta1.Stage{Name: "prod"}
	stage.ClusterSelector.MatchLabels = map[string]string{"env": "prod"}
	spec := ProfileSpecFor(&p, &stage)

	var from, to map[string]any
	raw, _ := json.Marshal(p)
	_ = json.Unmarshal(raw, &from)
	raw, _ = json.Marshal(spec)
	_ = json.Unmarshal(raw, &to)
	for k, want := range from {
		if !reflect.DeepEqual(to[k], want) {
			t.Errorf("profileSpec.%s = %v reaches the ClusterProfile as %v", k, want, to[k])
		}
	}
	if !reflect.DeepEqual(spec.ClusterSelector, stage.ClusterSelector) {
		t.Errorf("clusterSelector = %+v", spec.ClusterSelector)
	}
}

// stateOf reads a generated profile: current spec and a Ready condition for
// its generation are needed before anything counts.
func TestUnitStateOf(t *testing.T) {
	const hash = "h1"
	profile := func(annotation string, generation int64, conds []metav1.Condition, failed int) *configv1beta1.ClusterProfile {
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "x-dev", Generation: generation,
			Annotations: map[string]string{SpecHashAnnotation: annotation}}}
		p.Status.Conditions = conds
		for i := 0; i < failed; i++ {
			p.Status.FailedClusters = append(p.Status.FailedClusters, configv1beta1.FailedCluster{FailureMessage: "boom"})
		}
		return p
	}
	ready := func(status metav1.ConditionStatus, gen int64, msg string) metav1.Condition {
		return metav1.Condition{Type: "Ready", Status: status, ObservedGeneration: gen, Message: msg}
	}
	tests := []struct {
		name    string
		profile *configv1beta1.ClusterProfile
		phase   configv1beta1.StagePhase
		message string
	}{
		{"old spec", profile("h0", 2, []metav1.Condition{ready("True", 2, "1 of 1 clusters provisioned")}, 0), configv1beta1.StageProvisioning, "is being updated"},
		{"not evaluated yet", profile(hash, 3, []metav1.Condition{ready("True", 2, "1 of 1 clusters provisioned")}, 0), configv1beta1.StageProvisioning, "is being evaluated"},
		{"no condition", profile(hash, 1, nil, 0), configv1beta1.StageProvisioning, "is being evaluated"},
		{"provisioning", profile(hash, 1, []metav1.Condition{ready("Unknown", 1, "0 of 2 clusters provisioned")}, 0), configv1beta1.StageProvisioning, "0 of 2"},
		{"provisioned", profile(hash, 1, []metav1.Condition{ready("True", 1, "2 of 2 clusters provisioned")}, 0), configv1beta1.StageProvisioned, "2 of 2"},
		{"failed", profile(hash, 1, []metav1.Condition{ready("False", 1, "1 of 2 clusters failed: fleet/dev: boom")}, 1), configv1beta1.StageFailed, "fleet/dev: boom"},
		{"stalled", profile(hash, 1, []metav1.Condition{ready("False", 1, "bad selector"),
			{Type: "Stalled", Status: "True", ObservedGeneration: 1, Message: "bad selector"}}, 0), configv1beta1.StageFailed, "bad selector"},
	}
	for _, tc := range tests {
		got := stateOf(tc.profile, hash)
		if got.Phase != tc.phase || !strings.Contains(got.Message, tc.message) {
			t.Errorf("%s: %+v; want %s containing %q", tc.name, got, tc.phase, tc.message)
		}
	}
}
