package clusters

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	toolscache "k8s.io/client-go/tools/cache"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// WatchKey identifies one shared informer: a kind in a cluster, optionally
// restricted to the objects carrying some labels.
type WatchKey struct {
	Cluster libv1beta1.ClusterID
	GVK     schema.GroupVersionKind
	// LabelSelector restricts what is watched, and held in memory, to the
	// objects it selects; empty for every object of the kind.
	LabelSelector string
}

func (k WatchKey) String() string {
	s := k.Cluster.String() + " " + k.GVK.String()
	if k.LabelSelector != "" {
		s += " " + k.LabelSelector
	}
	return s
}

// WatchEventType says what a WatchEvent reports.
type WatchEventType string

// What a Watcher's handler is told.
const (
	// WatchAdded: an object appeared (the initial list included).
	WatchAdded WatchEventType = "Added"
	// WatchUpdated: an object changed (a new resourceVersion).
	WatchUpdated WatchEventType = "Updated"
	// WatchDeleted: an object went away.
	WatchDeleted WatchEventType = "Deleted"
	// WatchSynced: the informer completed its initial list; only from now on is
	// a List from it a confirmed state.
	WatchSynced WatchEventType = "Synced"
	// WatchDisconnected: the cluster's connection was closed (kubeconfig changed,
	// cluster forgotten); the informer stopped and the holders' registrations
	// are gone. Holders that still want the events watch again.
	WatchDisconnected WatchEventType = "Disconnected"
)

// WatchEvent is what a Watcher's handler is told about one of the keys it holds.
type WatchEvent struct {
	Type WatchEventType
	Key  WatchKey
	// Holders are the names holding Key through this Watcher, sorted.
	Holders []string
	// Object is the object added, as updated, or as last seen before its
	// deletion; nil for Synced and Disconnected.
	Object *unstructured.Unstructured
	// Old is the object before an update.
	Old *unstructured.Unstructured
}

// Watches is the one way Tugboat watches managed clusters, in the spirit of
// Cluster API's cluster cache: one informer per WatchKey, shared by every
// Watcher and holder interested in it, started with the first holder and
// stopped with the last. The registry tells it when a connection closes; the
// informers on that connection stop and their holders are told (WatchDisconnected)
// so they can watch again, on the new connection when there is one. It needs
// nothing in the managed clusters.
type Watches struct {
	registry *Registry
	log      logr.Logger

	mu        sync.Mutex
	informers map[WatchKey]*sharedInformer
}

// sharedInformer is one running informer with who holds it.
type sharedInformer struct {
	conn         *Connection
	informer     toolscache.SharedIndexInformer
	registration toolscache.ResourceEventHandlerRegistration
	stop         context.CancelFunc
	// holders are, per Watcher, the names holding the informer.
	holders map[*Watcher]map[string]bool
}

// Watcher is one user of the Watches (a controller, a feature), with the
// handler told about the keys it holds. Handlers run on informer goroutines and
// on the goroutine that closed a connection: they must return quickly (enqueue,
// mark) and may call the Watcher back.
type Watcher struct {
	watches *Watches
	name    string
	handle  func(WatchEvent)
}

func newWatches(registry *Registry, log logr.Logger) *Watches {
	w := &Watches{registry: registry, log: log, informers: map[WatchKey]*sharedInformer{}}
	registry.Subscribe(func(ev ConnectionEvent) {
		if ev.Closed {
			w.connectionClosed(ev.Connection)
		}
	})
	return w
}

// NewWatcher returns a Watcher named name (for logs) whose handler is handle.
func (w *Watches) NewWatcher(name string, handle func(WatchEvent)) *Watcher {
	return &Watcher{watches: w, name: name, handle: handle}
}

// Keys lists the running informers, sorted; for tests and debugging.
func (w *Watches) Keys() []WatchKey {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]WatchKey, 0, len(w.informers))
	for k := range w.informers {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b WatchKey) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// notice is a WatchEvent for one Watcher, delivered once no lock is held.
type notice struct {
	watcher *Watcher
	event   WatchEvent
}

func deliver(notices []notice) {
	for _, n := range notices {
		n.watcher.handle(n.event)
	}
}

// noticesLocked addresses an event about si to every Watcher holding it.
func (si *sharedInformer) noticesLocked(ev WatchEvent) []notice {
	out := make([]notice, 0, len(si.holders))
	for watcher, names := range si.holders {
		e := ev
		e.Holders = sortedNames(names)
		out = append(out, notice{watcher: watcher, event: e})
	}
	return out
}

// dropLocked stops the informer of key and returns the Disconnected notices for its holders.
func (w *Watches) dropLocked(key WatchKey) []notice {
	si := w.informers[key]
	delete(w.informers, key)
	si.stop()
	return si.noticesLocked(WatchEvent{Type: WatchDisconnected, Key: key})
}

// connectionClosed stops the informers of a closed connection and tells their holders.
func (w *Watches) connectionClosed(conn *Connection) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, si := range w.informers {
		if si.conn == conn {
			w.log.V(1).Info("connection closed; holders will watch again", "watch", key.String())
			notices = append(notices, w.dropLocked(key)...)
		}
	}
}

// Rewatch stops every informer of cluster and tells their holders
// (WatchDisconnected), so that they watch again at once, with a fresh list.
// Registry.Returned calls it when a cluster answers again after failed
// probes: an informer that kept retrying through an outage waits out its
// backoff (up to a minute, with jitter) before it lists again, and whatever
// waits for it (drift detection, events, health checks) with it.
func (w *Watches) Rewatch(cluster libv1beta1.ClusterID) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	for key := range w.informers {
		if key.Cluster == cluster {
			w.log.V(1).Info("cluster answers again; holders will watch again", "watch", key.String())
			notices = append(notices, w.dropLocked(key)...)
		}
	}
}

// Watch makes holder hold key, starting the key's informer when it is the
// first holder of any Watcher. It reports whether the informer has synced;
// when it has not, the handler is told WatchSynced once it has. Calling it
// again is cheap: reconcilers call it on every pass.
func (c *Watcher) Watch(ctx context.Context, key WatchKey, holder string) (bool, error) {
	conn, err := c.watches.registry.Get(ctx, key.Cluster)
	if err != nil {
		return false, fmt.Errorf("connecting to cluster %s: %w", key.Cluster, err)
	}
	if synced, ok := c.watches.hold(key, conn, c, holder); ok {
		return synced, nil
	}
	// Built without the lock: discovery and client construction reach the cluster.
	si, err := newSharedInformer(conn, key)
	if err != nil {
		return false, err
	}
	return c.watches.start(key, si, c, holder)
}

// hold adds holder to the informer of key when one runs on conn. An informer
// on another (closed, replaced) connection is dropped and its holders told.
func (w *Watches) hold(key WatchKey, conn *Connection, c *Watcher, holder string) (synced, ok bool) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	si, ok := w.informers[key]
	if ok && (si.conn != conn || conn.Closed()) {
		notices = w.dropLocked(key)
		ok = false
	}
	if !ok {
		return false, false
	}
	si.addHolderLocked(c, holder)
	return si.registration.HasSynced(), true
}

// start runs si for key unless another caller started one on the same
// connection meanwhile, and makes holder hold it.
func (w *Watches) start(key WatchKey, si *sharedInformer, c *Watcher, holder string) (bool, error) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	if si.conn.Closed() {
		// Closed while the informer was built: the caller's next Watch reconnects.
		return false, fmt.Errorf("watching %s in cluster %s: connection closed", key.GVK, key.Cluster)
	}
	if existing, ok := w.informers[key]; ok {
		if existing.conn == si.conn {
			existing.addHolderLocked(c, holder)
			return existing.registration.HasSynced(), nil
		}
		notices = w.dropLocked(key)
	}
	reg, err := si.informer.AddEventHandler(w.dispatcher(key, si))
	if err != nil {
		return false, fmt.Errorf("watching %s in cluster %s: %w", key.GVK, key.Cluster, err)
	}
	// The informer outlives the caller's context: it runs until its last
	// holder lets go or its connection closes.
	ctx, stop := context.WithCancel(context.Background())
	si.registration, si.stop = reg, stop
	si.addHolderLocked(c, holder)
	w.informers[key] = si
	go si.informer.RunWithContext(ctx)
	go func() {
		if toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			w.notify(key, si, WatchEvent{Type: WatchSynced, Key: key})
		}
	}()
	w.log.V(1).Info("watching", "watch", key.String(), "by", c.name)
	return false, nil
}

func newSharedInformer(conn *Connection, key WatchKey) (*sharedInformer, error) {
	mapper, err := conn.RESTMapper()
	if err != nil {
		return nil, err
	}
	mapping, err := mapper.RESTMapping(key.GVK.GroupKind(), key.GVK.Version)
	if err != nil {
		return nil, fmt.Errorf("watching %s in cluster %s: %w", key.GVK, key.Cluster, err)
	}
	dyn, err := conn.Dynamic()
	if err != nil {
		return nil, err
	}
	inf := dynamicinformer.NewFilteredDynamicInformer(dyn, mapping.Resource, metav1.NamespaceAll, 0,
		toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc},
		func(o *metav1.ListOptions) { o.LabelSelector = key.LabelSelector })
	informer := inf.Informer()
	return &sharedInformer{conn: conn, informer: informer, holders: map[*Watcher]map[string]bool{}}, nil
}

func (si *sharedInformer) addHolderLocked(c *Watcher, holder string) {
	if si.holders[c] == nil {
		si.holders[c] = map[string]bool{}
	}
	si.holders[c][holder] = true
}

// dispatcher turns the informer's events into WatchEvents for its holders.
func (w *Watches) dispatcher(key WatchKey, si *sharedInformer) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			w.notify(key, si, WatchEvent{Type: WatchAdded, Key: key, Object: asUnstructured(obj)})
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, n := asUnstructured(oldObj), asUnstructured(newObj)
			if o != nil && n != nil && o.GetResourceVersion() == n.GetResourceVersion() {
				return // a resync, not a change
			}
			w.notify(key, si, WatchEvent{Type: WatchUpdated, Key: key, Object: n, Old: o})
		},
		DeleteFunc: func(obj any) {
			w.notify(key, si, WatchEvent{Type: WatchDeleted, Key: key, Object: asUnstructured(obj)})
		},
	}
}

// notify tells the holders of si, while it is still the informer of key.
func (w *Watches) notify(key WatchKey, si *sharedInformer, ev WatchEvent) {
	w.mu.Lock()
	var notices []notice
	if w.informers[key] == si {
		notices = si.noticesLocked(ev)
	}
	w.mu.Unlock()
	deliver(notices)
}

func asUnstructured(obj any) *unstructured.Unstructured {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, _ := obj.(*unstructured.Unstructured)
	return u
}

// Release drops holder from every key the Watcher holds for it that is not in
// keep (nil: all). An informer nobody holds any more stops.
func (c *Watcher) Release(holder string, keep map[WatchKey]bool) {
	w := c.watches
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, si := range w.informers {
		if keep[key] || !si.holders[c][holder] {
			continue
		}
		delete(si.holders[c], holder)
		if len(si.holders[c]) == 0 {
			delete(si.holders, c)
		}
		if len(si.holders) == 0 {
			si.stop()
			delete(w.informers, key)
			w.log.V(1).Info("stopped watching", "watch", key.String())
		}
	}
}

// Held lists the keys the Watcher holds with their holders, sorted; for tests
// and debugging.
func (c *Watcher) Held() map[WatchKey][]string {
	w := c.watches
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[WatchKey][]string{}
	for key, si := range w.informers {
		if names := si.holders[c]; len(names) > 0 {
			out[key] = sortedNames(names)
		}
	}
	return out
}

// List returns copies of the objects the informer of key holds (in namespace,
// or all when empty). The key must be held: List does not start an informer.
func (c *Watcher) List(key WatchKey, namespace string) ([]unstructured.Unstructured, error) {
	w := c.watches
	w.mu.Lock()
	si, ok := w.informers[key]
	w.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("listing %s in cluster %s: not watched (its connection closed?)", key.GVK, key.Cluster)
	}
	indexer := si.informer.GetIndexer()
	items := indexer.List()
	if namespace != "" {
		var err error
		if items, err = indexer.ByIndex(toolscache.NamespaceIndex, namespace); err != nil {
			return nil, fmt.Errorf("listing %s in namespace %s of cluster %s: %w", key.GVK, namespace, key.Cluster, err)
		}
	}
	out := make([]unstructured.Unstructured, 0, len(items))
	for _, item := range items {
		if u, ok := item.(*unstructured.Unstructured); ok {
			out = append(out, *u.DeepCopy())
		}
	}
	return out, nil
}

func sortedNames(names map[string]bool) []string {
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
