package clusterpromotion_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// setWindow replaces the promotionWindow of the first stage's auto trigger.
func setWindow(t *testing.T, name string, w *configv1beta1.TimeWindow) {
	t.Helper()
	updatePromotion(t, name, func(p *configv1beta1.ClusterPromotion) { p.Spec.Stages[0].Trigger.Auto.PromotionWindow = w })
}

// promotionWindow: a cron expression that does not parse stalls the rollout
// with the cause (nothing promoted); a closed window holds prod back; an open
// one lets the promotion through. Changing a trigger does not restart the rollout.
func TestPromotionWindow(t *testing.T) {
	const name = "window"
	createPromotion(t, &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.ClusterPromotionSpec{
		ProfileSpec: configv1beta1.ProfileSpec{PolicyRefs: []libv1beta1.PolicyRef{policy(t, name, configMapObject("window-web", "v1"))}},
		Stages: []configv1beta1.Stage{
			stage("dev", &configv1beta1.Trigger{Auto: &configv1beta1.AutoTrigger{
				PromotionWindow: &configv1beta1.TimeWindow{From: "every morning", To: "0 17 * * *"}}}),
			stage("prod", nil),
		},
	}})
	waitConfigMap(t, "dev", "window-web", "v1")
	waitPromotion(t, name, "stalled on the window", readyIs(metav1.ConditionFalse, "InvalidSpec", `stage dev: promotionWindow.from "every morning"`))
	eventFor(t, name, "InvalidSpec", "promotionWindow.from")
	profileAbsent(t, "window-prod")

	// Open one minute a year, on January 1st (UTC).
	setWindow(t, name, &configv1beta1.TimeWindow{From: "0 0 1 1 *", To: "1 0 1 1 *"})
	p := waitPromotion(t, name, "waits for the window", readyIs(metav1.ConditionUnknown, "WaitingForWindow", "prod waits: the next promotion window"))
	if d := stageOf(p, "dev"); d == nil || d.Phase != configv1beta1.StageProvisioned {
		t.Fatalf("dev's status: %+v", p.Status.Stages)
	}
	profileAbsent(t, "window-prod")
	noConfigMap(t, "prod", "window-web")

	// Opening every minute, closing on January 1st: open now.
	setWindow(t, name, &configv1beta1.TimeWindow{From: "* * * * *", To: "0 0 1 1 *"})
	waitConfigMap(t, "prod", "window-web", "v1")
	waitPromotion(t, name, "rolled out", readyIs(metav1.ConditionTrue, "Succeeded", "rolled out to every stage"))
}
