package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A template that does not render is reported in the trigger's clusterInfo,
// naming the template object and the error; what was generated before stays;
// fixing the template brings the cluster back to Provisioned.
func TestRenderErrorIsReportedAndKeepsLastGoodState(t *testing.T) {
	ctx := context.Background()
	const name = "events-render-error"
	template := oneForEventTrigger(t, name, "rendered", "")
	services := clusterClient(t, "services")
	createSourceConfigMap(t, services, name, "render-a", "a")
	setLabels(t, "services", map[string]string{name: "source"})
	defer setLabels(t, "services", map[string]string{name: ""})
	good := waitOneProfile(t, name)

	// The plural form in a oneForEvent trigger is a render error.
	template.Data["cm.yaml"] += "data:\n  all: \"{{ .MatchingResources }}\"\n"
	if err := mgmt.Update(ctx, template); err != nil {
		t.Fatal(err)
	}
	waitClusterInfo(t, name, func(ci libv1beta1.ClusterInfo) error {
		if ci.Status != libv1beta1.FeatureStatusFailed || ci.FailureMessage == nil {
			return fmt.Errorf("status %s", ci.Status)
		}
		for _, want := range []string{"ConfigMap default/" + name + " key cm.yaml", ".MatchingResources is only available when oneForEvent is false"} {
			if !strings.Contains(*ci.FailureMessage, want) {
				return fmt.Errorf("failureMessage %q lacks %q", *ci.FailureMessage, want)
			}
		}
		return nil
	})
	if got := generatedProfiles(t, name); len(got) != 1 || got[0].Name != good.Name {
		t.Fatalf("after a render error: %d generated profiles, want %s kept", len(got), good.Name)
	}

	template.Data["cm.yaml"] = strings.Replace(template.Data["cm.yaml"], ".MatchingResources", ".MatchingResource.Namespace", 1)
	if err := mgmt.Update(ctx, template); err != nil {
		t.Fatal(err)
	}
	waitClusterInfo(t, name, func(ci libv1beta1.ClusterInfo) error {
		if ci.Status != libv1beta1.FeatureStatusProvisioned || ci.FailureMessage != nil {
			return fmt.Errorf("status %s", ci.Status)
		}
		return nil
	})
	testenv.Eventually(t, "fixed template deployed", func() error {
		cm := &corev1.ConfigMap{}
		if err := services.Get(ctx, types.NamespacedName{Namespace: "default", Name: "render-a-rendered"}, cm); err != nil {
			return err
		}
		if cm.Data["all"] != "default" {
			return fmt.Errorf("data %v", cm.Data)
		}
		return nil
	})
}

// waitClusterInfo waits until the services entry of a trigger's clusterInfo passes check.
func waitClusterInfo(t *testing.T, trigger string, check func(libv1beta1.ClusterInfo) error) {
	t.Helper()
	testenv.Eventually(t, "clusterInfo of "+trigger, func() error {
		tr := &libv1beta1.EventTrigger{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: trigger}, tr); err != nil {
			return err
		}
		for _, ci := range tr.Status.ClusterInfo {
			if ci.Cluster.Name == "services" {
				return check(ci)
			}
		}
		return fmt.Errorf("no clusterInfo for services: %+v", tr.Status.ClusterInfo)
	})
}

// An EventSource whose selectors do not compile says so in its conditions.
func TestInvalidEventSourceIsReported(t *testing.T) {
	ctx := context.Background()
	source := &libv1beta1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: "events-invalid-source"},
		Spec: libv1beta1.EventSourceSpec{ResourceSelectors: []libv1beta1.ResourceSelector{{
			Version: "v1", Kind: "ConfigMap", EvaluateCEL: []libv1beta1.CELRule{{Name: "broken", Rule: "resource.("}},
		}}},
	}
	if err := mgmt.Create(ctx, source); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "SelectorsValid=False on the EventSource", func() error {
		if err := mgmt.Get(ctx, client.ObjectKeyFromObject(source), source); err != nil {
			return err
		}
		for _, c := range source.Status.Conditions {
			if c.Type == events.SelectorsValidCondition && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "evaluateCEL[0] (broken)") {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", source.Status.Conditions)
	})
}
