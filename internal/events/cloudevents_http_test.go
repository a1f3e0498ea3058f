package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The portal scenario over the HTTP endpoint: "create a database for team
// blue", raised for the workload cluster in the structured content mode,
// generates a ClusterProfile deploying the team's database object to the
// services cluster; the release, in the binary content mode with the same
// source and subject, withdraws it.
func TestCloudEventsPortalOverHTTP(t *testing.T) {
	ctx := context.Background()
	const name = "ce-portal"
	cloudEventTrigger(t, name, libv1beta1.MessagingMatchCriteria{CloudEventSource: "^portal.example.com$", CloudEventType: `^dev\.tugboat\.database\.`},
		`{{ if eq .CloudEvent.type "dev.tugboat.database.released" }}Delete{{ else }}Create{{ end }}`, `apiVersion: v1
kind: ConfigMap
metadata:
  name: db-{{ .CloudEvent.data.team }}
  namespace: default
data:
  team: {{ .CloudEvent.data.team }}
  size: "{{ .CloudEvent.data.size }}"
  requestedFor: {{ .Cluster.metadata.name }}
`, func(tr *libv1beta1.EventTrigger) {
			tr.Spec.DestinationCluster = &corev1.ObjectReference{Namespace: fleetNamespace, Name: "services"}
		})
	sourceOn(t, name, "workload")
	services := clusterClient(t, "services")
	path := "/events/" + fleetNamespace + "/workload"

	structured := http.Header{"Content-Type": {"application/cloudevents+json"}}
	status, body := postEvent(t, path, eventsToken, structured, cloudEvent("req-1", "portal.example.com", "dev.tugboat.database.requested", "team-blue",
		map[string]any{"team": "blue", "size": 10}))
	if status != http.StatusOK {
		t.Fatalf("POST: %d %s", status, body)
	}
	var receipt struct {
		Triggers []struct{ Trigger, Action, Rejected string }
	}
	if err := json.Unmarshal([]byte(body), &receipt); err != nil || len(receipt.Triggers) != 1 || receipt.Triggers[0].Action != "Create" {
		t.Fatalf("receipt %s (%v), want one Create by %s", body, err, name)
	}
	// The endpoint answers once the generated objects are written.
	if p, err := profilesBySubject(t, name); err != nil || len(p) != 1 {
		t.Fatalf("generated profiles right after the answer: %v (%v), want one", p, err)
	}
	testenv.Eventually(t, "db-blue in the services cluster", func() error {
		cm := &corev1.ConfigMap{}
		if err := services.Get(ctx, types.NamespacedName{Namespace: "default", Name: "db-blue"}, cm); err != nil {
			return err
		}
		if cm.Data["size"] != "10" || cm.Data["requestedFor"] != "workload" {
			return fmt.Errorf("data %v", cm.Data)
		}
		return nil
	})

	binary := http.Header{
		"Ce-Specversion": {"1.0"}, "Ce-Id": {"rel-1"}, "Ce-Source": {"portal.example.com"},
		"Ce-Type": {"dev.tugboat.database.released"}, "Ce-Subject": {"team-blue"}, "Content-Type": {"application/json"},
	}
	status, body = postEvent(t, path, eventsToken, binary, []byte(`{"team": "blue"}`))
	if status != http.StatusOK || !strings.Contains(body, `"Delete"`) {
		t.Fatalf("POST release: %d %s", status, body)
	}
	// Deleted when the endpoint answers (the profile's finalizer then withdraws).
	for _, p := range generatedProfiles(t, name) {
		if p.DeletionTimestamp.IsZero() {
			t.Fatalf("generated profile %s not deleted after the release", p.Name)
		}
	}
	testenv.Eventually(t, "db-blue withdrawn from the services cluster", func() error {
		return notFound(services, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "default", Name: "db-blue"})
	})
	// The record of live events is gone with its last entry.
	cms := &corev1.ConfigMapList{}
	if err := mgmt.List(ctx, cms, client.MatchingLabels{libv1beta1.EventTriggerCloudEventsLabel: name}); err == nil && len(cms.Items) != 0 {
		t.Errorf("%d CloudEvents records left", len(cms.Items))
	}
}

// The endpoint refuses what it cannot authenticate or read, and says when an
// event matches nothing.
func TestCloudEventsHTTPRefusals(t *testing.T) {
	good := cloudEvent("x-1", "nowhere.example.com", "dev.tugboat.nothing", "s", nil)
	structured := http.Header{"Content-Type": {"application/cloudevents+json"}}
	for _, tc := range []struct {
		name, path, token string
		header            http.Header
		body              []byte
		status            int
		want              string
	}{
		{"no token", "/events/fleet/workload", "", structured, good, http.StatusUnauthorized, "missing bearer token"},
		{"wrong token", "/events/fleet/workload", "guess", structured, good, http.StatusUnauthorized, "invalid bearer token"},
		{"unknown cluster", "/events/fleet/nowhere", eventsToken, structured, good, http.StatusNotFound, "not registered"},
		{"malformed", "/events/fleet/workload", eventsToken, structured, []byte(`{"specversion": "1.0", "id": `), http.StatusBadRequest, "CloudEvent"},
		{"missing attributes", "/events/fleet/workload", eventsToken, structured, []byte(`{"specversion": "1.0", "id": "1"}`), http.StatusBadRequest, "source"},
		{"matches nothing", "/events/fleet/workload", eventsToken, structured, good, http.StatusUnprocessableEntity, "matches no EventTrigger"},
		{"bad path", "/events/fleet", eventsToken, structured, good, http.StatusNotFound, "want POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postEvent(t, tc.path, tc.token, tc.header, tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s; want %d mentioning %q", status, body, tc.status, tc.want)
			}
		})
	}
}
