package clusterpromotion_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusterpromotion"
)

// approve approves the promotion from a stage as `tug promote approve` does.
func approve(t *testing.T, name, stageName string) {
	t.Helper()
	from, to, err := clusterpromotion.Approve(context.Background(), mgmt, name, "")
	if err != nil || from != stageName || to != "prod" {
		t.Fatalf("Approve = %s, %s, %v; want %s, prod", from, to, err, stageName)
	}
}

// approvalReset checks that the approval of a stage was consumed (automaticReset).
func approvalReset(stageName string) func(*configv1beta1.ClusterPromotion) error {
	return func(p *configv1beta1.ClusterPromotion) error {
		for _, s := range p.Spec.Stages {
			if s.Name == stageName && s.Trigger.Manual.Approved != nil {
				return fmt.Errorf("approved is still %v", *s.Trigger.Manual.Approved)
			}
		}
		return nil
	}
}

// With a manual trigger nothing moves to prod until approved; the approval is
// consumed (automaticReset), and a changed profileSpec restarts the rollout
// from dev while prod keeps the content it has until approved again.
func TestManualPromotionWaitsForApprovalAndRestartsOnChange(t *testing.T) {
	const name = "manual"
	ctx := context.Background()
	createPromotion(t, &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.ClusterPromotionSpec{
		ProfileSpec: configv1beta1.ProfileSpec{PolicyRefs: []libv1beta1.PolicyRef{policy(t, "manual-v1", configMapObject("manual-web", "v1"))}},
		Stages: []configv1beta1.Stage{
			stage("dev", &configv1beta1.Trigger{Manual: &configv1beta1.ManualTrigger{}}),
			stage("prod", nil),
		},
	}})

	waitConfigMap(t, "dev", "manual-web", "v1")
	p := waitPromotion(t, name, "waits for an approval", readyIs(metav1.ConditionUnknown, "WaitingForApproval", "prod waits: approval of"))
	if d := stageOf(p, "dev"); d == nil || d.Phase != configv1beta1.StageProvisioned || d.CurrentStatusDescription == nil {
		t.Fatalf("dev's status: %+v", p.Status.Stages)
	}
	if !p.Spec.Stages[0].Trigger.Manual.AutomaticReset {
		t.Fatal("automaticReset does not default to true")
	}
	profileAbsent(t, "manual-prod")
	noConfigMap(t, "prod", "manual-web")
	for stageName, want := range map[string]string{"prod": "the last stage", "qa": "has no stage qa"} {
		if _, _, err := clusterpromotion.Approve(ctx, mgmt, name, stageName); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("approving %s: %v; want an error containing %q", stageName, err, want)
		}
	}

	approve(t, name, "dev")
	waitConfigMap(t, "prod", "manual-web", "v1")
	waitPromotion(t, name, "rolled out", readyIs(metav1.ConditionTrue, "Succeeded", "rolled out to every stage"))
	waitPromotion(t, name, "approval consumed", approvalReset("dev"))

	// A new profileSpec: dev gets v2 at once, prod keeps v1 and waits for a new approval.
	v2 := policy(t, "manual-v2", configMapObject("manual-web", "v2"))
	updatePromotion(t, name, func(p *configv1beta1.ClusterPromotion) { p.Spec.ProfileSpec.PolicyRefs = []libv1beta1.PolicyRef{v2} })
	waitConfigMap(t, "dev", "manual-web", "v2")
	p = waitPromotion(t, name, "waits for a new approval", readyIs(metav1.ConditionUnknown, "WaitingForApproval", "prod waits: approval of"))
	if p.Status.CurrentStageName != "dev" || len(p.Status.Stages) != 1 {
		t.Fatalf("the rollout did not restart from dev: %+v", p.Status)
	}
	if v, err := configMapValue(t, "prod", "manual-web"); err != nil || v != "v1" {
		t.Fatalf("prod runs %q (%v) before the approval; want v1", v, err)
	}
	eventFor(t, name, "RolloutRestarted", "from stage dev again")

	approve(t, name, "dev")
	waitConfigMap(t, "prod", "manual-web", "v2")
	waitPromotion(t, name, "rolled out again", readyIs(metav1.ConditionTrue, "Succeeded", "rolled out to every stage"))
}
