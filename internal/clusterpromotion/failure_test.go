package clusterpromotion_test

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// An object the dev API server rejects fails the dev stage: the rollout stops
// there (status and a Warning Event say why) and prod gets nothing; once the
// content is fixed, dev becomes Provisioned and the rollout goes on.
func TestFailedStageStopsTheRollout(t *testing.T) {
	const name = "failing"
	ref := policy(t, name, configMapObject("Not_A_Valid_Name", "v1"))
	createPromotion(t, &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.ClusterPromotionSpec{
		ProfileSpec: configv1beta1.ProfileSpec{PolicyRefs: []libv1beta1.PolicyRef{ref}},
		Stages: []configv1beta1.Stage{
			stage("dev", &configv1beta1.Trigger{Auto: &configv1beta1.AutoTrigger{}}),
			stage("prod", nil),
		},
	}})

	p := waitPromotion(t, name, "stopped at dev", readyIs(metav1.ConditionFalse, "StageFailed", "stage dev failed, the rollout stops there"))
	dev := stageOf(p, "dev")
	if dev == nil || dev.Phase != configv1beta1.StageFailed || dev.FailureMessage == nil || !strings.Contains(*dev.FailureMessage, "Not_A_Valid_Name") {
		t.Fatalf("dev's status: %+v", p.Status.Stages)
	}
	eventFor(t, name, "StageFailed", "Not_A_Valid_Name")
	profileAbsent(t, "failing-prod")

	// Fixed content (the referenced ConfigMap, not the spec): the rollout resumes.
	policy(t, name, configMapObject("failing-web", "v1"))
	waitConfigMap(t, "prod", "failing-web", "v1")
	p = waitPromotion(t, name, "rolled out", readyIs(metav1.ConditionTrue, "Succeeded", "rolled out to every stage"))
	if dev := stageOf(p, "dev"); dev == nil || dev.FailureMessage != nil {
		t.Fatal(fmt.Sprintf("dev still reports a failure: %+v", dev))
	}
}
