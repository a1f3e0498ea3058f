package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/notify"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A KubernetesEvent notification is an Event regarding the owner: Warning for
// a failing state, Normal for a healthy one, with the message's reason.
func TestKubernetesEvent(t *testing.T) {
	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: secretsNamespace, Name: "event-owner"}}
	if err := mgmt.Create(context.Background(), owner); err != nil {
		t.Fatal(err)
	}
	n := libv1beta1.Notification{Name: "events", Type: libv1beta1.NotificationTypeKubernetesEvent}
	msg := notify.Message{Title: "Cluster x: liveness checks failing", Text: "details", Reason: "LivenessChecksFailing"}
	if err := newSender().Send(context.Background(), owner, n, msg); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the Event regarding the owner", func() error {
		list := &eventsv1.EventList{}
		if err := mgmt.List(context.Background(), list, client.InNamespace(secretsNamespace)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == owner.Name && e.Reason == "LivenessChecksFailing" {
				if e.Type != corev1.EventTypeWarning || !strings.Contains(e.Note, "details") {
					return fmt.Errorf("event %s %q", e.Type, e.Note)
				}
				return nil
			}
		}
		return fmt.Errorf("no event among %d", len(list.Items))
	})
}
