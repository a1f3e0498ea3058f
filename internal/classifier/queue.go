package classifier

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// watchQueue turns what happens to the watches a controller holds through
// clusters.Watches (each classifier holds its kinds under its own name) into
// reconcile requests for the holders: a change of a watched resource, an
// informer that synced, a connection that closed (the classifier watches again).
type watchQueue struct {
	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// source is the controller source through which watch events reach the queue.
func (q *watchQueue) source() source.Source {
	return source.Func(func(_ context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.queue = queue
		return nil
	})
}

// handle enqueues the holders of the watch. Events arriving before the
// controller started are dropped: its start reconciles every object anyway.
func (q *watchQueue) handle(ev clusters.WatchEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue == nil {
		return
	}
	for _, name := range ev.Holders {
		q.queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
}
