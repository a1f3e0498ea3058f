package events_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Bad input is reported and changes nothing: a CloudEvent the templates fail
// on is rejected (HTTP 422, the trigger's status, an Event) and generates
// nothing, the last good state stays; an action rendering something else is
// rejected too; a later good event clears the report.
func TestBadCloudEventsAreRejected(t *testing.T) {
	ctx := context.Background()
	const name = "ce-bad"
	cloudEventTrigger(t, name, libv1beta1.MessagingMatchCriteria{CloudEventSource: "^bad-portal$"},
		`{{ .CloudEvent.data.action }}`, `apiVersion: v1
kind: ConfigMap
metadata:
  name: bad-{{ .CloudEvent.subject }}
  namespace: default
data:
  owner: {{ .CloudEvent.data.owner.name }}
`, nil)
	sourceOn(t, name, "workload")
	workload := clusterClient(t, "workload")
	path := "/events/" + fleetNamespace + "/workload"
	structured := http.Header{"Content-Type": {"application/cloudevents+json"}}

	status, body := postEvent(t, path, eventsToken, structured, cloudEvent("good-1", "bad-portal", "t", "one",
		map[string]any{"action": "Create", "owner": map[string]any{"name": "ann"}}))
	if status != http.StatusOK {
		t.Fatalf("good event: %d %s", status, body)
	}
	testenv.Eventually(t, "bad-one in the workload cluster", func() error {
		return workload.Get(ctx, types.NamespacedName{Namespace: "default", Name: "bad-one"}, &corev1.ConfigMap{})
	})

	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"template fails on the data", map[string]any{"action": "Create"}, "resource.yaml:7:23"},
		{"action renders neither Create nor Delete", map[string]any{"action": "Update", "owner": map[string]any{"name": "bob"}}, "want Create or Delete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postEvent(t, path, eventsToken, structured, cloudEvent("bad-"+tc.want[:3], "bad-portal", "t", "two", tc.data))
			if status != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s; want 422 mentioning %q", status, body, tc.want)
			}
			info, err := clusterInfo(name, "workload")
			if err != nil {
				t.Fatal(err)
			}
			if info.Status != libv1beta1.FeatureStatusFailed || !strings.Contains(ptrString(info.FailureMessage), tc.want) {
				t.Fatalf("status %s %q; want Failed mentioning %q", info.Status, ptrString(info.FailureMessage), tc.want)
			}
			testenv.Eventually(t, "a CloudEventRejected Event", func() error { return hasEvent(name, "CloudEventRejected", tc.want) })
			got, err := profilesBySubject(t, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got["two"]; ok || len(got) != 1 {
				t.Fatalf("generated profiles %v; want only the one of subject one", got)
			}
		})
	}

	status, body = postEvent(t, path, eventsToken, structured, cloudEvent("good-2", "bad-portal", "t", "three",
		map[string]any{"action": "Create", "owner": map[string]any{"name": "cy"}}))
	if status != http.StatusOK {
		t.Fatalf("good event: %d %s", status, body)
	}
	info, err := clusterInfo(name, "workload")
	if err != nil || info.Status != libv1beta1.FeatureStatusProvisioned {
		t.Fatalf("status %+v (%v); want Provisioned once a good event is accepted", info, err)
	}
}

// A message that is not a CloudEvent is reported on the cluster and dropped:
// neither core NATS nor a JetStream consumer is blocked by it.
func TestPoisonMessagesDoNotBlock(t *testing.T) {
	ctx := context.Background()
	const name = "ce-poison"
	cloudEventTrigger(t, name, libv1beta1.MessagingMatchCriteria{CloudEventSource: "^poison-test$"}, "", `apiVersion: v1
kind: ConfigMap
metadata:
  name: poison-{{ .CloudEvent.subject }}
  namespace: default
`, nil)
	sourceOn(t, name, "workload")
	nc := natsConn(t)
	workload := clusterClient(t, "workload")

	publish(t, nc, "ce.poison", []byte("this is not a CloudEvent"))
	jsPublish(t, nc, "js.poison", []byte(`{"specversion": "1.0"`))
	publish(t, nc, "ce.poison", cloudEvent("p-1", "poison-test", "t", "core", nil))
	jsPublish(t, nc, "js.poison", cloudEvent("p-2", "poison-test", "t", "stream", nil))
	for _, cm := range []string{"poison-core", "poison-stream"} {
		testenv.Eventually(t, cm+" in the workload cluster", func() error {
			return workload.Get(ctx, types.NamespacedName{Namespace: "default", Name: cm}, &corev1.ConfigMap{})
		})
	}
	// The Events of one cluster with one reason aggregate into a series: the
	// first message names its subject.
	testenv.Eventually(t, "a CloudEventInvalid Event on the workload cluster", func() error {
		return hasEvent("workload", "CloudEventInvalid", "dropped: not a CloudEvent")
	})
	awaitWorkloadConsumerDrained(ctx, t, nc, "the poison message acknowledged")
}
