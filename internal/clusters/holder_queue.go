package clusters

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// HolderQueue turns what happens to the watches a controller holds through
// Watches (each object holds its kinds under its own name: an EventTrigger, a
// Classifier, a HealthCheck…) into reconcile requests for the holders: a change
// of a watched resource, an informer that synced, a connection that closed (the
// holder watches again on the new one). The holders are cluster-scoped objects.
//
// Give Handle to Watches.NewWatcher and Source to the controller's builder
// (WatchesRawSource). The zero value is ready to use.
type HolderQueue struct {
	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// Source is the controller source through which watch events reach the
// controller's queue.
func (q *HolderQueue) Source() source.Source {
	return source.Func(func(_ context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.queue = queue
		return nil
	})
}

// Handle enqueues the holders of the watch. Events arriving before the
// controller started are dropped: its start reconciles every object anyway.
func (q *HolderQueue) Handle(ev WatchEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue == nil {
		return
	}
	for _, name := range ev.Holders {
		q.queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
}
