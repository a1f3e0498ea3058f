package clusterpromotion_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusterpromotion"
)

// gateOpen is a health check as users write them: the ConfigMaps it selects
// must say open: "yes".
const gateOpen = `
function evaluate()
  local hs = {healthy = false, message = "the gate is closed"}
  if obj.data ~= nil and obj.data.open == "yes" then
    hs.healthy = true
    hs.message = ""
  end
  return hs
end`

// gate creates (or updates) ConfigMap default/gate-<name> labelled gate=<name> in a cluster.
func gate(t *testing.T, cluster, name, open string) {
	t.Helper()
	ctx := context.Background()
	c := clusterClient(t, cluster)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gate-" + name, Labels: map[string]string{"gate": name}},
		Data: map[string]string{"open": open}}
	if err := c.Create(ctx, cm); err != nil {
		if err := c.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
}

// gateCheck is the health check over the gate ConfigMaps of a test.
func gateCheck(name string) libv1beta1.ValidateHealth {
	return libv1beta1.ValidateHealth{Name: "gate", FeatureID: libv1beta1.FeatureResources, Version: "v1", Kind: "ConfigMap",
		Namespace: "default", Script: gateOpen,
		LabelFilters: []libv1beta1.LabelFilter{{Key: "gate", Operation: libv1beta1.OperationEqual, Value: name}}}
}

// With an automatic trigger, prod gets nothing while dev is not done (its
// health check fails), and gets the content once dev is Provisioned and the
// delay has passed after that.
func TestAutomaticPromotionWaitsForTheStage(t *testing.T) {
	const name = "auto"
	gate(t, "dev", name, "no")
	gate(t, "prod", name, "yes")
	delay := metav1.Duration{Duration: 2 * time.Second}
	createPromotion(t, &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.ClusterPromotionSpec{
		ProfileSpec: configv1beta1.ProfileSpec{
			PolicyRefs:      []libv1beta1.PolicyRef{policy(t, name, configMapObject("auto-web", "v1"))},
			ValidateHealths: []libv1beta1.ValidateHealth{gateCheck(name)},
		},
		Stages: []configv1beta1.Stage{
			stage("dev", &configv1beta1.Trigger{Auto: &configv1beta1.AutoTrigger{Delay: &delay}}),
			stage("prod", nil),
		},
	}})

	// dev runs the content but its health check fails: prod waits, with nothing.
	waitConfigMap(t, "dev", "auto-web", "v1")
	if _, _, err := clusterpromotion.Approve(context.Background(), mgmt, name, "dev"); err == nil || !strings.Contains(err.Error(), "promotes automatically") {
		t.Fatalf("approving an automatic stage: %v", err)
	}
	waitPromotion(t, name, "prod waits for dev", readyIs(metav1.ConditionUnknown, "Progressing", "prod waits: stage dev: 0 of 1 clusters provisioned"))
	profileAbsent(t, "auto-prod")
	noConfigMap(t, "prod", "auto-web")
	if p, _ := getPromotion(name); p.Status.CurrentStageName != "dev" || stageOf(p, "prod") != nil {
		t.Fatalf("status: %+v", p.Status)
	}

	// dev becomes healthy: after the delay, prod gets the content.
	gate(t, "dev", name, "yes")
	waitConfigMap(t, "prod", "auto-web", "v1")
	p := waitPromotion(t, name, "rolled out", readyIs(metav1.ConditionTrue, "Succeeded", "rolled out to every stage"))
	dev, prod := stageOf(p, "dev"), stageOf(p, "prod")
	if p.Status.CurrentStageName != "prod" || dev == nil || prod == nil || dev.Phase != configv1beta1.StagePromoted || prod.Phase != configv1beta1.StageProvisioned {
		t.Fatalf("status: %+v", p.Status)
	}
	// Order, not speed: prod's profile was written no earlier than dev's success plus the delay.
	if dev.LastSuccessfulAppliedTime == nil || prod.LastUpdateReconciledTime == nil ||
		prod.LastUpdateReconciledTime.Before(&metav1.Time{Time: dev.LastSuccessfulAppliedTime.Add(delay.Duration)}) {
		t.Fatalf("prod started before dev's delay passed: dev %+v, prod %+v", dev, prod)
	}
	eventFor(t, name, "StageProvisioned", "stage dev provisioned")
	eventFor(t, name, "Promoted", "from dev to prod")
}
