package clusterpromotion_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Once dev is done and its delay has passed, its preHealthCheckDeployment is
// deployed there (a profile of its own) and the postDelayHealthChecks join dev's
// ClusterProfile; prod gets nothing until both are done. Moving on removes the
// preHealthCheckDeployment.
func TestPostDelayHealthChecksGateThePromotion(t *testing.T) {
	const name = "postdelay"
	gate(t, "dev", name, "no")
	delay := metav1.Duration{Duration: time.Second}
	createPromotion(t, &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.ClusterPromotionSpec{
		ProfileSpec: configv1beta1.ProfileSpec{PolicyRefs: []libv1beta1.PolicyRef{policy(t, name, configMapObject("postdelay-web", "v1"))}},
		Stages: []configv1beta1.Stage{
			stage("dev", &configv1beta1.Trigger{Auto: &configv1beta1.AutoTrigger{Delay: &delay,
				PreHealthCheckDeployment: []libv1beta1.PolicyRef{policy(t, name+"-verify", configMapObject("postdelay-verify", "run"))},
				PostDelayHealthChecks:    []libv1beta1.ValidateHealth{gateCheck(name)}}}),
			stage("prod", nil),
		},
	}})

	// dev is done without the check (the gate is closed, yet dev is Provisioned);
	// after the delay the check joins dev's profile and holds prod back.
	waitConfigMap(t, "dev", "postdelay-web", "v1")
	eventFor(t, name, "StageProvisioned", "stage dev provisioned")
	eventFor(t, name, "PostDelayHealthChecks", "deploying 1 preHealthCheckDeployment source(s) and running 1 post-delay health check")
	waitConfigMap(t, "dev", "postdelay-verify", "run")
	testenv.Eventually(t, "the check in dev's profile", func() error {
		cp := &configv1beta1.ClusterProfile{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name + "-dev"}, cp); err != nil {
			return err
		}
		if len(cp.Spec.ValidateHealths) != 1 || cp.Spec.ValidateHealths[0].Name != "gate" {
			return fmt.Errorf("validateHealths %+v", cp.Spec.ValidateHealths)
		}
		return nil
	})
	p := waitPromotion(t, name, "prod waits for the check", readyIs(metav1.ConditionUnknown, "Progressing", "prod waits: stage dev: 0 of 1 clusters provisioned"))
	if d := stageOf(p, "dev"); d == nil || !d.PostDelayHealthChecks {
		t.Fatalf("dev's status: %+v", p.Status.Stages)
	}
	profileAbsent(t, name+"-prod")
	noConfigMap(t, "prod", "postdelay-web")

	gate(t, "dev", name, "yes")
	waitConfigMap(t, "prod", "postdelay-web", "v1")
	waitPromotion(t, name, "rolled out", readyIs(metav1.ConditionTrue, "Succeeded", "rolled out to every stage"))
	// prod's profile has the content alone: its own trigger is not used.
	cp := &configv1beta1.ClusterProfile{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name + "-prod"}, cp); err != nil {
		t.Fatal(err)
	}
	if len(cp.Spec.ValidateHealths) != 0 {
		t.Fatalf("prod's profile has validateHealths %+v", cp.Spec.ValidateHealths)
	}
	// The verification is withdrawn from dev once the rollout moved on, and never reached prod.
	testenv.Eventually(t, "the preHealthCheckDeployment withdrawn", func() error {
		if _, err := configMapValue(t, "dev", "postdelay-verify"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("ConfigMap postdelay-verify in dev: %v", err)
		}
		return nil
	})
	noConfigMap(t, "prod", "postdelay-verify")
	profileAbsent(t, "preverification-"+name+"-dev")
}
