package clusters

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// Nudge hands obj to a controller through its channel source without
// blocking: when the channel is full the controller is behind, already has
// work queued, and the nudge is dropped. It reports whether obj was handed
// over. Callers keep whatever state the controller needs (a mark, a set) so
// that a dropped nudge costs only latency, never correctness.
func Nudge(events chan<- event.GenericEvent, obj client.Object) bool {
	select {
	case events <- event.GenericEvent{Object: obj}:
		return true
	default:
		return false
	}
}
