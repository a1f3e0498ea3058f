package events_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The Sveltos documentation's example over core NATS: a login CloudEvent on
// subject user-operation creates, in the source cluster, a Namespace named
// after the event's subject (labelled from its data); the logout event — same
// source and subject, its type rendering cloudEventAction to Delete —
// withdraws it.
func TestCloudEventsUserLoginOverNATS(t *testing.T) {
	ctx := context.Background()
	const name = "ce-user-operation"
	cloudEventTrigger(t, name, libv1beta1.MessagingMatchCriteria{Subject: "^ce.user-operation$", CloudEventSource: "auth.example.com"},
		`{{if eq .CloudEvent.type "auth.example.com.logout"}}Delete{{else}}Create{{end}}`, `kind: Namespace
apiVersion: v1
metadata:
  name: {{ .CloudEvent.subject }}
  labels:
    organization: {{ index .CloudEvent.data "organization" }}
`, nil)
	sourceOn(t, name, "workload")
	nc := natsConn(t)
	workload := clusterClient(t, "workload")

	publish(t, nc, "ce.user-operation", cloudEvent("10001", "auth.example.com", "auth.example.com.login", "mgianluc",
		map[string]any{"message": "User mgianluc login", "organization": "platform"}))
	testenv.Eventually(t, "namespace mgianluc in the workload cluster", func() error {
		ns := &corev1.Namespace{}
		if err := workload.Get(ctx, types.NamespacedName{Name: "mgianluc"}, ns); err != nil {
			return err
		}
		if ns.Labels["organization"] != "platform" {
			return fmt.Errorf("labels %v", ns.Labels)
		}
		return nil
	})
	profiles, err := profilesBySubject(t, name)
	if err != nil || len(profiles) != 1 {
		t.Fatalf("generated profiles %v (%v), want one", profiles, err)
	}
	// A redelivered or repeated login changes nothing.
	publish(t, nc, "ce.user-operation", cloudEvent("10001", "auth.example.com", "auth.example.com.login", "mgianluc",
		map[string]any{"message": "User mgianluc login", "organization": "platform"}))
	// An event of another source matches nothing of this trigger.
	publish(t, nc, "ce.user-operation", cloudEvent("10002", "billing.example.com", "auth.example.com.login", "other", nil))

	publish(t, nc, "ce.user-operation", cloudEvent("10003", "auth.example.com", "auth.example.com.logout", "mgianluc",
		map[string]any{"message": "User mgianluc logout"}))
	testenv.Eventually(t, "the generated profile withdrawn", func() error {
		if p := generatedProfiles(t, name); len(p) != 0 {
			return fmt.Errorf("%d generated profiles left", len(p))
		}
		return nil
	})
	// No kubelet or namespace controller runs: the namespace is deleted, never gone.
	testenv.Eventually(t, "namespace mgianluc deleted in the workload cluster", func() error {
		ns := &corev1.Namespace{}
		if err := workload.Get(ctx, types.NamespacedName{Name: "mgianluc"}, ns); err != nil {
			return nil
		}
		if ns.DeletionTimestamp.IsZero() {
			return fmt.Errorf("namespace mgianluc not deleted")
		}
		return nil
	})
	if err := hasEvent("workload", "CloudEventUnmatched", "billing.example.com"); err != nil {
		t.Error(err)
	}
}
