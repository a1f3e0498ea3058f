package clusterpromotion_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// The CRD rejects what this version of Tugboat does not do, and malformed
// stages and triggers, with a message naming the field.
func TestValidationRejects(t *testing.T) {
	yes := true
	check := libv1beta1.ValidateHealth{Name: "c", FeatureID: libv1beta1.FeatureResources, Version: "v1", Kind: "ConfigMap", Script: "function evaluate() return {healthy=true} end"}
	negative := metav1.Duration{Duration: -1}
	auto := func(a configv1beta1.AutoTrigger) *configv1beta1.Trigger { return &configv1beta1.Trigger{Auto: &a} }
	tests := []struct {
		name   string
		mutate func(*configv1beta1.ClusterPromotionSpec)
		want   string // "" for accepted
	}{
		{"valid", func(*configv1beta1.ClusterPromotionSpec) {}, ""},
		{"manual and auto", func(s *configv1beta1.ClusterPromotionSpec) {
			s.Stages[0].Trigger = &configv1beta1.Trigger{Manual: &configv1beta1.ManualTrigger{}, Auto: &configv1beta1.AutoTrigger{}}
		}, "a trigger has either manual or auto, not both"},
		{"neither manual nor auto", func(s *configv1beta1.ClusterPromotionSpec) { s.Stages[0].Trigger = &configv1beta1.Trigger{} },
			"a trigger has either manual or auto, not both"},
		{"postDelayHealthChecks", func(s *configv1beta1.ClusterPromotionSpec) {
			s.Stages[0].Trigger = auto(configv1beta1.AutoTrigger{PostDelayHealthChecks: []libv1beta1.ValidateHealth{check}})
		}, ""},
		{"preHealthCheckDeployment", func(s *configv1beta1.ClusterPromotionSpec) {
			s.Stages[0].Trigger = auto(configv1beta1.AutoTrigger{PreHealthCheckDeployment: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "x"}}})
		}, ""},
		{"promotionWindow", func(s *configv1beta1.ClusterPromotionSpec) {
			s.Stages[0].Trigger = auto(configv1beta1.AutoTrigger{PromotionWindow: &configv1beta1.TimeWindow{From: "0 9 * * 1-5", To: "0 17 * * 1-5"}})
		}, ""},
		{"promotionWindow without to", func(s *configv1beta1.ClusterPromotionSpec) {
			s.Stages[0].Trigger = auto(configv1beta1.AutoTrigger{PromotionWindow: &configv1beta1.TimeWindow{From: "0 9 * * 1-5"}})
		}, "spec.stages[0].trigger.auto.promotionWindow.to"},
		{"negative delay", func(s *configv1beta1.ClusterPromotionSpec) {
			s.Stages[0].Trigger = auto(configv1beta1.AutoTrigger{Delay: &negative})
		},
			"delay must not be negative"},
		{"reloader", func(s *configv1beta1.ClusterPromotionSpec) { s.ProfileSpec.Reloader = true }, ""},
		{"patchesFrom", func(s *configv1beta1.ClusterPromotionSpec) {
			s.ProfileSpec.PatchesFrom = []libv1beta1.ValueFrom{{Kind: "ConfigMap", Namespace: "default", Name: "x"}}
		}, ""},
		{"preDeleteChecks", func(s *configv1beta1.ClusterPromotionSpec) {
			s.ProfileSpec.PreDeleteChecks = []libv1beta1.ValidateHealth{check}
		}, ""},
		{"postDeleteChecks", func(s *configv1beta1.ClusterPromotionSpec) {
			s.ProfileSpec.PostDeleteChecks = []libv1beta1.ValidateHealth{check}
		}, ""},
		{"stage name", func(s *configv1beta1.ClusterPromotionSpec) { s.Stages[0].Name = "Dev_1" }, "spec.stages[0].name"},
		{"no stages", func(s *configv1beta1.ClusterPromotionSpec) { s.Stages = nil }, "spec.stages"},
		{"the same stage twice", func(s *configv1beta1.ClusterPromotionSpec) { s.Stages[1].Name = "dev" }, "Duplicate value"},
		{"tier 0", func(s *configv1beta1.ClusterPromotionSpec) { s.ProfileSpec.Tier = -1 }, "spec.profileSpec.tier"},
		{"maxUpdate", func(s *configv1beta1.ClusterPromotionSpec) {
			s.ProfileSpec.MaxUpdate = ptrIntOrString("half")
		}, "spec.profileSpec.maxUpdate"},
		{"approved on an auto trigger is no field", func(s *configv1beta1.ClusterPromotionSpec) {
			s.Stages[0].Trigger = &configv1beta1.Trigger{Manual: &configv1beta1.ManualTrigger{Approved: &yes}}
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: "validation"}, Spec: configv1beta1.ClusterPromotionSpec{
				Stages: []configv1beta1.Stage{stage("dev", nil), stage("prod", nil)},
			}}
			tc.mutate(&p.Spec)
			err := mgmt.Create(context.Background(), p, client.DryRunAll)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted; want an error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
