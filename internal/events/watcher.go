package events

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// watchKey identifies one shared informer: a kind in a cluster.
type watchKey struct {
	cluster types.NamespacedName
	gvk     schema.GroupVersionKind
}

func (k watchKey) String() string { return k.cluster.String() + " " + k.gvk.String() }

// watch is Tugboat's event handler on one informer of a cluster's shared cache,
// with the EventTriggers that want its events.
type watch struct {
	conn         *clusters.Connection
	informer     cache.Informer
	registration toolscache.ResourceEventHandlerRegistration
	triggers     map[string]struct{}
}

// Watcher keeps one event handler per (cluster, GVK) on the clusters' shared
// informer caches, whatever the number of EventTriggers interested, and turns
// informer events into reconcile requests for those EventTriggers. It watches
// source clusters directly: no agent runs in them.
type Watcher struct {
	registry *clusters.Registry
	// checkInterval is how often closed connections are looked for.
	checkInterval time.Duration
	log           logr.Logger

	mu      sync.Mutex
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
	watches map[watchKey]*watch
}

// NewWatcher returns a Watcher reaching clusters through registry.
func NewWatcher(registry *clusters.Registry, log logr.Logger) *Watcher {
	return &Watcher{registry: registry, checkInterval: 2 * time.Second, log: log, watches: map[watchKey]*watch{}}
}

// Source is the controller source through which informer events reach the
// EventTrigger controller's queue. Starting it also starts a loop that notices
// closed connections (kubeconfig changed, cluster forgotten) and re-enqueues the
// triggers that depended on them, so they register again.
func (w *Watcher) Source() source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		w.mu.Lock()
		w.queue = q
		w.mu.Unlock()
		go w.checkConnections(ctx)
		return nil
	})
}

func (w *Watcher) checkConnections(ctx context.Context) {
	t := time.NewTicker(w.checkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		for key, wt := range w.watches {
			if wt.conn.Closed() {
				w.log.V(1).Info("connection closed; triggers will register again", "cluster", key.cluster, "gvk", key.gvk)
				delete(w.watches, key)
				w.enqueueLocked(wt.triggers)
			}
		}
		w.mu.Unlock()
	}
}

func (w *Watcher) enqueueLocked(triggers map[string]struct{}) {
	if w.queue == nil {
		return
	}
	for name := range triggers {
		w.queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
}

func (w *Watcher) enqueue(key watchKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wt, ok := w.watches[key]; ok {
		w.enqueueLocked(wt.triggers)
	}
}

// Ensure registers trigger's interest in kind gvk of cluster, creating the
// informer handler when it is the first. It reports whether the informer has
// synced: only then is a list from it a confirmed state. When it has not, the
// trigger is enqueued again once it has.
func (w *Watcher) Ensure(ctx context.Context, trigger string, key watchKey) (bool, error) {
	conn, err := w.registry.Get(ctx, key.cluster)
	if err != nil {
		return false, fmt.Errorf("connecting to cluster %s: %w", key.cluster, err)
	}
	w.mu.Lock()
	wt, ok := w.watches[key]
	if ok && (wt.conn != conn || wt.conn.Closed()) {
		// The connection was replaced: its cache is stopped.
		delete(w.watches, key)
		ok = false
	}
	if ok {
		wt.triggers[trigger] = struct{}{}
		w.mu.Unlock()
		return wt.registration.HasSynced(), nil
	}
	w.mu.Unlock()

	ca, err := conn.Cache(ctx)
	if err != nil {
		return false, fmt.Errorf("starting the informer cache of cluster %s: %w", key.cluster, err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(key.gvk)
	inf, err := ca.GetInformer(ctx, u, cache.BlockUntilSynced(false))
	if err != nil {
		return false, fmt.Errorf("watching %s in cluster %s: %w", key.gvk, key.cluster, err)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if existing, ok := w.watches[key]; ok && existing.conn == conn {
		// Another reconcile registered it meanwhile.
		existing.triggers[trigger] = struct{}{}
		return existing.registration.HasSynced(), nil
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { w.enqueue(key) },
		UpdateFunc: func(oldObj, newObj any) {
			o, okOld := oldObj.(client.Object)
			n, okNew := newObj.(client.Object)
			if okOld && okNew && o.GetResourceVersion() == n.GetResourceVersion() {
				return // a resync, not a change
			}
			w.enqueue(key)
		},
		DeleteFunc: func(any) { w.enqueue(key) },
	})
	if err != nil {
		return false, fmt.Errorf("adding event handler for %s in cluster %s: %w", key.gvk, key.cluster, err)
	}
	w.watches[key] = &watch{conn: conn, informer: inf, registration: reg, triggers: map[string]struct{}{trigger: {}}}
	w.log.V(1).Info("watching", "cluster", key.cluster, "gvk", key.gvk)
	if reg.HasSynced() {
		return true, nil
	}
	// The wait outlives this reconcile; it is bounded in case the cluster
	// never answers the initial list.
	waitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	go func() {
		defer cancel()
		if toolscache.WaitForCacheSync(waitCtx.Done(), reg.HasSynced) {
			w.enqueue(key)
		}
	}()
	return false, nil
}

// Release drops trigger's interest in every watch not in keep (nil: all). A
// watch nobody wants any more loses its event handler; the informer itself
// stays in the cluster's shared cache for other users.
func (w *Watcher) Release(trigger string, keep map[watchKey]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, wt := range w.watches {
		if keep[key] {
			continue
		}
		delete(wt.triggers, trigger)
		if len(wt.triggers) == 0 {
			if err := wt.informer.RemoveEventHandler(wt.registration); err != nil {
				w.log.V(1).Info("removing event handler", "cluster", key.cluster, "gvk", key.gvk, "error", err.Error())
			}
			delete(w.watches, key)
		}
	}
}

// Watched lists the (cluster, GVK) pairs with a handler and the triggers
// interested in each, sorted; for tests and debugging.
func (w *Watcher) Watched() map[string][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string][]string{}
	for key, wt := range w.watches {
		names := make([]string, 0, len(wt.triggers))
		for n := range wt.triggers {
			names = append(names, n)
		}
		sort.Strings(names)
		out[key.String()] = names
	}
	return out
}

// List returns the objects of kind key.gvk in the cluster (in namespace, or
// all when empty) from the shared informer cache.
func (w *Watcher) List(ctx context.Context, key watchKey, namespace string) ([]unstructured.Unstructured, error) {
	conn, err := w.registry.Get(ctx, key.cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", key.cluster, err)
	}
	ca, err := conn.Cache(ctx)
	if err != nil {
		return nil, fmt.Errorf("informer cache of cluster %s: %w", key.cluster, err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(key.gvk.GroupVersion().WithKind(key.gvk.Kind + "List"))
	var opts []client.ListOption
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := ca.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing %s in cluster %s: %w", key.gvk, key.cluster, err)
	}
	return list.Items, nil
}
