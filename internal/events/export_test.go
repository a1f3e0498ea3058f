package events

import (
	"fmt"

	"github.com/nats-io/nats.go"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// NewUnmanagedTriggerReconciler returns a TriggerReconciler outside any
// manager, whose Reconcile tests call directly.
func NewUnmanagedTriggerReconciler(c client.Client, registry *clusters.Registry) *TriggerReconciler {
	r := &TriggerReconciler{Client: c, Registry: registry, Fleet: clusters.Fleet{Reader: c}, Namespace: libv1beta1.DefaultSystemNamespace}
	r.watcher = registry.Watches().NewWatcher("unmanaged-eventtrigger", r.queue.Handle)
	return r
}

// DialNATSSecret connects as the "nats" section of a sveltos-nats Secret value says.
func DialNATSSecret(value []byte) (*nats.Conn, error) {
	s, err := parseNATSSecret(value)
	if err != nil {
		return nil, err
	}
	if s.NATS == nil {
		return nil, fmt.Errorf("no nats section")
	}
	opts, err := s.NATS.Configuration.options()
	if err != nil {
		return nil, err
	}
	return nats.Connect(s.NATS.Configuration.URL, opts...)
}
