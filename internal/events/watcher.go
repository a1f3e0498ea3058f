package events

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// triggerQueue turns what happens to the cluster watches EventTriggers hold
// (clusters.Watches; each trigger holds the kinds of its EventSource in its
// source clusters under its own name) into reconcile requests for those
// triggers: a change, an informer that synced, a connection that closed (the
// trigger watches again on the new one).
type triggerQueue struct {
	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// source is the controller source through which watch events reach the
// EventTrigger controller's queue.
func (q *triggerQueue) source() source.Source {
	return source.Func(func(_ context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.queue = queue
		return nil
	})
}

// handle enqueues the triggers holding the watch. Events arriving before the
// controller started are dropped: its start reconciles every trigger anyway.
func (q *triggerQueue) handle(ev clusters.WatchEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue == nil {
		return
	}
	for _, trigger := range ev.Holders {
		q.queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: trigger}})
	}
}
