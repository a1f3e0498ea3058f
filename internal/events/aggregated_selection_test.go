package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// keepUnpaired is an aggregatedSelection keeping the ConfigMaps that have no
// Secret of the same name among the selected resources.
const keepUnpaired = `
local strings = require("strings")
function evaluate()
  local secrets = {}
  for _, r in ipairs(resources) do
    if r.kind == "Secret" then secrets[r.metadata.name] = true end
  end
  local kept = {}
  for _, r in ipairs(resources) do
    if r.kind == "ConfigMap" and not secrets[r.metadata.name] then table.insert(kept, r) end
  end
  return {resources = kept, message = strings.Join({"kept", tostring(#kept)}, " ")}
end`

// aggregatedSelection sees every selected resource at once and decides which
// count: a ConfigMap paired with a Secret of the same name is no event. The
// EventReport lists what counts. A script failing at run time fails the
// source cluster with its message and an Event on the EventSource, keeping
// what was generated; one that does not compile makes the EventSource not
// Ready, with an Event naming aggregatedSelection.
func TestAggregatedSelection(t *testing.T) {
	ctx := context.Background()
	const name = "events-aggregated"
	source := &libv1beta1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.EventSourceSpec{
			ResourceSelectors: []libv1beta1.ResourceSelector{
				{Version: "v1", Kind: "ConfigMap", LabelFilters: []libv1beta1.LabelFilter{{Key: "events-test", Operation: libv1beta1.OperationEqual, Value: name}}},
				{Version: "v1", Kind: "Secret", LabelFilters: []libv1beta1.LabelFilter{{Key: "events-test", Operation: libv1beta1.OperationEqual, Value: name}}},
			},
			AggregatedSelection: keepUnpaired,
		},
	}
	trigger := &libv1beta1.EventTrigger{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.EventTriggerSpec{
			SourceClusterSelector:      libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{name: "source"}}},
			DestinationClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{name: "nowhere"}}},
			EventSourceName:            name,
			OneForEvent:                true,
		},
	}
	if err := mgmt.Create(ctx, source); err != nil {
		t.Fatal(err)
	}
	if err := mgmt.Create(ctx, trigger); err != nil {
		t.Fatal(err)
	}
	services := clusterClient(t, "services")
	createSourceConfigMap(t, services, name, name+"-a", "a")
	createSourceConfigMap(t, services, name, name+"-b", "b")
	paired := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name + "-b", Labels: map[string]string{"events-test": name}}}
	if err := services.Create(ctx, paired); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "services", map[string]string{name: "source"})
	t.Cleanup(func() { setLabels(t, "services", map[string]string{name: ""}) })

	p := waitOneProfile(t, name)
	if got := p.Labels[libv1beta1.EventTriggerResourceNameLabel]; got != name+"-a" {
		t.Fatalf("profile generated for %q, want %s-a (the unpaired ConfigMap)", got, name)
	}
	testenv.Eventually(t, "EventReport lists only what counts", func() error {
		report := &libv1beta1.EventReport{}
		key := types.NamespacedName{Namespace: fleetNamespace, Name: libv1beta1.EventReportName(name, "services")}
		if err := mgmt.Get(ctx, key, report); err != nil {
			return err
		}
		if refs := report.Spec.MatchingResources; len(refs) != 1 || refs[0].Name != name+"-a" || refs[0].Kind != "ConfigMap" {
			return fmt.Errorf("matchingResources %+v", refs)
		}
		return nil
	})

	// A run-time failure.
	setAggregatedSelection(t, name, `function evaluate() error("no aggregation today") end`)
	waitClusterInfo(t, name, func(ci libv1beta1.ClusterInfo) error {
		msg := ptrString(ci.FailureMessage)
		if ci.Status != libv1beta1.FeatureStatusFailed || !strings.Contains(msg, "EventSource "+name+": aggregatedSelection") || !strings.Contains(msg, "no aggregation today") {
			return fmt.Errorf("status %s: %q", ci.Status, msg)
		}
		return nil
	})
	testenv.Eventually(t, "Event about the failing aggregatedSelection", func() error {
		return hasEvent(name, "AggregatedSelectionFailed", "no aggregation today")
	})
	if got := generatedProfiles(t, name); len(got) != 1 || got[0].Name != p.Name {
		t.Fatalf("after a failure: %d generated profiles, want %s kept", len(got), p.Name)
	}

	// A script that does not compile.
	setAggregatedSelection(t, name, `function evaluate(`)
	waitSourceReady(t, source, func(ready *metav1.Condition) error {
		if ready.Status != metav1.ConditionFalse || ready.Reason != conditions.InvalidSpec || !strings.Contains(ready.Message, "EventSource "+name+": aggregatedSelection: parsing Lua") {
			return fmt.Errorf("ready %s/%s: %s", ready.Status, ready.Reason, ready.Message)
		}
		return nil
	})
	testenv.Eventually(t, "Event naming aggregatedSelection", func() error {
		return hasEvent(name, "InvalidSelector", "aggregatedSelection")
	})
	if got := generatedProfiles(t, name); len(got) != 1 || got[0].Name != p.Name {
		t.Fatalf("after a compile error: %d generated profiles, want %s kept", len(got), p.Name)
	}
}

// setAggregatedSelection replaces the script with a merge patch (the
// controller's status writes cannot conflict with it).
func setAggregatedSelection(t *testing.T, source, script string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"spec": map[string]any{"aggregatedSelection": script}})
	if err != nil {
		t.Fatal(err)
	}
	s := &libv1beta1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: source}}
	if err := mgmt.Patch(context.Background(), s, client.RawPatch(types.MergePatchType, body)); err != nil {
		t.Fatal(err)
	}
}
