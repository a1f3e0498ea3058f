package events_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// JetStream: CloudEvents published while no manager runs wait in the stream
// and are processed, each once, by the next manager — a repeated event and a
// Delete among them — and every message is acknowledged.
func TestJetStreamEventsWhileManagerDown(t *testing.T) {
	ctx := context.Background()
	const name = "ce-jetstream"
	cloudEventTrigger(t, name, libv1beta1.MessagingMatchCriteria{Subject: `^js\.teams$`, CloudEventSource: "^portal$"},
		`{{ if eq .CloudEvent.type "released" }}Delete{{ else }}Create{{ end }}`, `apiVersion: v1
kind: ConfigMap
metadata:
  name: js-{{ .CloudEvent.subject }}
  namespace: default
data:
  id: "{{ .CloudEvent.id }}"
`, nil)
	sourceOn(t, name, "workload")
	nc := natsConn(t)
	workload := clusterClient(t, "workload")

	jsPublish(t, nc, "js.teams", cloudEvent("1", "portal", "requested", "red", nil))
	testenv.Eventually(t, "js-red in the workload cluster", func() error {
		return workload.Get(ctx, types.NamespacedName{Namespace: "default", Name: "js-red"}, &corev1.ConfigMap{})
	})
	before, err := profilesBySubject(t, name)
	if err != nil {
		t.Fatal(err)
	}

	stopManager()
	jsPublish(t, nc, "js.teams", cloudEvent("2", "portal", "requested", "green", nil))
	jsPublish(t, nc, "js.teams", cloudEvent("3", "portal", "requested", "blue", nil))
	jsPublish(t, nc, "js.teams", cloudEvent("3", "portal", "requested", "blue", nil)) // published twice
	jsPublish(t, nc, "js.teams", cloudEvent("4", "portal", "released", "red", nil))
	if err := startManager(ctx); err != nil {
		t.Fatal(err)
	}

	testenv.Eventually(t, "profiles for green and blue only", func() error {
		got, err := profilesBySubject(t, name)
		if err != nil {
			return err
		}
		var subjects []string
		for s := range got {
			subjects = append(subjects, s)
		}
		slices.Sort(subjects)
		if !slices.Equal(subjects, []string{"blue", "green"}) {
			return fmt.Errorf("profiles for %v", subjects)
		}
		return nil
	})
	for _, cm := range []string{"js-green", "js-blue"} {
		testenv.Eventually(t, cm+" in the workload cluster", func() error {
			return workload.Get(ctx, types.NamespacedName{Namespace: "default", Name: cm}, &corev1.ConfigMap{})
		})
	}
	testenv.Eventually(t, "js-red withdrawn", func() error {
		return notFound(workload, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "default", Name: "js-red"})
	})
	if _, ok := before["red"]; !ok {
		t.Fatalf("no profile for red before the restart: %v", before)
	}
	awaitWorkloadConsumerDrained(ctx, t, nc, "every message acknowledged")
}
