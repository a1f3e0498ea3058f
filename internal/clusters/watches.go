package clusters

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	toolscache "k8s.io/client-go/tools/cache"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// WatchKey is what a holder watches: a kind in a cluster (a registration),
// optionally restricted to the objects carrying some labels. The keys of
// registrations sharing an endpoint share one informer.
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
// Cluster API's cluster cache: one informer per endpoint, kind and label
// selector, shared by every Watcher and holder interested in it — through any
// registration on the endpoint (see Endpoint) — started with the first holder
// and stopped with the last. Each event of a shared informer is delivered once
// per registration holding it, with that registration's WatchKey: a holder
// sees no difference from an informer of its own. The registry tells it when a
// connection closes; that registration lets go of its informers (stopped when
// it was the last) and its holders are told (WatchDisconnected) so they can
// watch again, on the new connection when there is one. It needs nothing in
// the managed clusters.
type Watches struct {
	registry *Registry
	log      logr.Logger

	mu sync.Mutex
	// informers are the running informers; held maps each WatchKey some
	// holder holds to the informer serving it.
	informers map[informerKey]*sharedInformer
	held      map[WatchKey]*sharedInformer
}

// informerKey identifies one running informer: a WatchKey without the
// registration, on the endpoint the registrations share.
type informerKey struct {
	endpoint      *Endpoint
	gvk           schema.GroupVersionKind
	labelSelector string
}

// sharedInformer is one running informer with who holds it, per registration.
type sharedInformer struct {
	key          informerKey
	informer     toolscache.SharedIndexInformer
	registration toolscache.ResourceEventHandlerRegistration
	stop         context.CancelFunc
	startedAt    time.Time
	// clusters are the registrations holding the informer.
	clusters map[libv1beta1.ClusterID]*clusterHold
}

// clusterHold is one registration's hold on a shared informer: the
// connection it holds it through and, per Watcher, the names holding it.
type clusterHold struct {
	conn    *Connection
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
	w := &Watches{registry: registry, log: log, informers: map[informerKey]*sharedInformer{}, held: map[WatchKey]*sharedInformer{}}
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

// Keys lists the keys held, sorted (several keys share one informer when
// their registrations share an endpoint); for tests and debugging.
func (w *Watches) Keys() []WatchKey {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]WatchKey, 0, len(w.held))
	for k := range w.held {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b WatchKey) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// Informers is the number of running informers; for tests and measurements.
func (w *Watches) Informers() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.informers)
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

// watchKey is the WatchKey through which cluster holds si.
func (si *sharedInformer) watchKey(cluster libv1beta1.ClusterID) WatchKey {
	return WatchKey{Cluster: cluster, GVK: si.key.gvk, LabelSelector: si.key.labelSelector}
}

// noticesLocked addresses an event about si to every Watcher holding it,
// once per registration, with that registration's key.
func (si *sharedInformer) noticesLocked(ev WatchEvent) []notice {
	var out []notice
	for cluster, hold := range si.clusters {
		out = append(out, hold.noticesLocked(si.watchKey(cluster), ev)...)
	}
	return out
}

func (h *clusterHold) noticesLocked(key WatchKey, ev WatchEvent) []notice {
	out := make([]notice, 0, len(h.holders))
	for watcher, names := range h.holders {
		e := ev
		e.Key = key
		e.Holders = sortedNames(names)
		out = append(out, notice{watcher: watcher, event: e})
	}
	return out
}

// detachLocked makes the registration of key let go of its informer, stopped
// when it was the last, and returns the Disconnected notices for its holders.
func (w *Watches) detachLocked(key WatchKey) []notice {
	si := w.held[key]
	hold := si.clusters[key.Cluster]
	delete(w.held, key)
	delete(si.clusters, key.Cluster)
	if len(si.clusters) == 0 {
		w.stopLocked(si)
	}
	return hold.noticesLocked(key, WatchEvent{Type: WatchDisconnected})
}

// dropLocked stops si and returns the Disconnected notices for the holders of
// every registration on it.
func (w *Watches) dropLocked(si *sharedInformer) []notice {
	notices := si.noticesLocked(WatchEvent{Type: WatchDisconnected})
	for cluster := range si.clusters {
		delete(w.held, si.watchKey(cluster))
	}
	si.clusters = map[libv1beta1.ClusterID]*clusterHold{}
	w.stopLocked(si)
	return notices
}

func (w *Watches) stopLocked(si *sharedInformer) {
	si.stop()
	if w.informers[si.key] == si {
		delete(w.informers, si.key)
	}
}

// connectionClosed makes the registration of a closed connection let go of
// its informers and tells its holders; an informer other registrations still
// hold keeps running.
func (w *Watches) connectionClosed(conn *Connection) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, si := range w.held {
		if si.clusters[key.Cluster].conn == conn {
			w.log.V(1).Info("connection closed; holders will watch again", "watch", key.String())
			notices = append(notices, w.detachLocked(key)...)
		}
	}
}

// Rewatch stops the informers cluster holds and tells their holders — of
// every registration on them (WatchDisconnected), so that they watch again at
// once, with a fresh list. Registry.Returned calls it when a cluster answers
// again after failed probes: an informer that kept retrying through an outage
// waits out its backoff (up to a minute, with jitter) before it lists again,
// and whatever waits for it (drift detection, events, health checks) with it.
// Registrations sharing an endpoint return one after the other: an informer
// started since the endpoint's last rewatch and since its last trouble is
// already fresh and keeps running.
func (w *Watches) Rewatch(cluster libv1beta1.ClusterID) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	rewatched := map[*Endpoint]bool{}
	for key, si := range w.held {
		if key.Cluster != cluster || w.informers[si.key] != si {
			continue
		}
		e := si.key.endpoint
		e.timesMu.Lock()
		fresh := !e.rewatchedAt.IsZero() && si.startedAt.After(e.rewatchedAt) && si.startedAt.After(e.lastTrouble)
		e.timesMu.Unlock()
		if fresh {
			continue
		}
		w.log.V(1).Info("cluster answers again; holders will watch again", "watch", key.String(), "endpoint", e.ID())
		notices = append(notices, w.dropLocked(si)...)
		rewatched[e] = true
	}
	for e := range rewatched {
		e.timesMu.Lock()
		e.rewatchedAt = now
		e.timesMu.Unlock()
	}
}

// Watch makes holder hold key, starting the key's informer when no
// registration on the same endpoint holds one of the same kind and selector.
// It reports whether the informer has synced; when it has not, the handler is
// told WatchSynced once it has. Calling it again is cheap: reconcilers call it
// on every pass.
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
	return c.watches.start(key, si, conn, c, holder)
}

// hold adds holder to the informer serving key when there is one: the one key
// is held through, or one another registration on conn's endpoint runs. A
// hold through another (closed, replaced) connection is let go of and its
// holders told.
func (w *Watches) hold(key WatchKey, conn *Connection, c *Watcher, holder string) (synced, ok bool) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	if si, ok := w.held[key]; ok && (si.clusters[key.Cluster].conn != conn || conn.Closed()) {
		notices = w.detachLocked(key)
	}
	if conn.Closed() {
		return false, false
	}
	si, ok := w.held[key]
	if !ok {
		if si, ok = w.informers[informerKeyOf(conn, key)]; !ok {
			return false, false
		}
	}
	w.addHolderLocked(si, key, conn, c, holder)
	return si.registration.HasSynced(), true
}

func informerKeyOf(conn *Connection, key WatchKey) informerKey {
	return informerKey{endpoint: conn.endpoint, gvk: key.GVK, labelSelector: key.LabelSelector}
}

// start runs si for key unless another caller started one on the same
// endpoint meanwhile, and makes holder hold it.
func (w *Watches) start(key WatchKey, si *sharedInformer, conn *Connection, c *Watcher, holder string) (bool, error) {
	var notices []notice
	defer func() { deliver(notices) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	if conn.Closed() {
		// Closed while the informer was built: the caller's next Watch reconnects.
		return false, fmt.Errorf("watching %s in cluster %s: connection closed", key.GVK, key.Cluster)
	}
	if existing, ok := w.held[key]; ok {
		if existing.clusters[key.Cluster].conn == conn {
			w.addHolderLocked(existing, key, conn, c, holder)
			return existing.registration.HasSynced(), nil
		}
		notices = w.detachLocked(key)
	}
	if existing, ok := w.informers[si.key]; ok {
		w.addHolderLocked(existing, key, conn, c, holder)
		return existing.registration.HasSynced(), nil
	}
	reg, err := si.informer.AddEventHandler(w.dispatcher(si))
	if err != nil {
		return false, fmt.Errorf("watching %s in cluster %s: %w", key.GVK, key.Cluster, err)
	}
	// The informer outlives the caller's context: it runs until its last
	// holder lets go or the last connection holding it closes.
	ctx, stop := context.WithCancel(context.Background())
	si.registration, si.stop, si.startedAt = reg, stop, time.Now()
	w.informers[si.key] = si
	w.addHolderLocked(si, key, conn, c, holder)
	go si.informer.RunWithContext(ctx)
	go func() {
		if toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			w.notify(si, WatchEvent{Type: WatchSynced})
		}
	}()
	w.log.V(1).Info("watching", "watch", key.String(), "endpoint", conn.endpoint.ID(), "by", c.name)
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
	dyn, err := conn.endpoint.dynamicClient()
	if err != nil {
		return nil, fmt.Errorf("watching %s in cluster %s: %w", key.GVK, key.Cluster, err)
	}
	inf := dynamicinformer.NewFilteredDynamicInformer(dyn, mapping.Resource, metav1.NamespaceAll, 0,
		toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc},
		func(o *metav1.ListOptions) { o.LabelSelector = key.LabelSelector })
	return &sharedInformer{key: informerKeyOf(conn, key), informer: inf.Informer(), clusters: map[libv1beta1.ClusterID]*clusterHold{}}, nil
}

// addHolderLocked makes holder of Watcher c hold si through key's registration.
func (w *Watches) addHolderLocked(si *sharedInformer, key WatchKey, conn *Connection, c *Watcher, holder string) {
	hold := si.clusters[key.Cluster]
	if hold == nil {
		hold = &clusterHold{conn: conn, holders: map[*Watcher]map[string]bool{}}
		si.clusters[key.Cluster] = hold
		w.held[key] = si
	}
	if hold.holders[c] == nil {
		hold.holders[c] = map[string]bool{}
	}
	hold.holders[c][holder] = true
}

// dispatcher turns the informer's events into WatchEvents for its holders.
func (w *Watches) dispatcher(si *sharedInformer) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			w.notify(si, WatchEvent{Type: WatchAdded, Object: asUnstructured(obj)})
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, n := asUnstructured(oldObj), asUnstructured(newObj)
			if o != nil && n != nil && o.GetResourceVersion() == n.GetResourceVersion() {
				return // a resync, not a change
			}
			w.notify(si, WatchEvent{Type: WatchUpdated, Object: n, Old: o})
		},
		DeleteFunc: func(obj any) {
			w.notify(si, WatchEvent{Type: WatchDeleted, Object: asUnstructured(obj)})
		},
	}
}

// notify tells the holders of si, of every registration on it, while it still runs.
func (w *Watches) notify(si *sharedInformer, ev WatchEvent) {
	w.mu.Lock()
	var notices []notice
	if w.informers[si.key] == si {
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
	for key, si := range w.held {
		hold := si.clusters[key.Cluster]
		if keep[key] || !hold.holders[c][holder] {
			continue
		}
		delete(hold.holders[c], holder)
		if len(hold.holders[c]) == 0 {
			delete(hold.holders, c)
		}
		if len(hold.holders) == 0 {
			delete(si.clusters, key.Cluster)
			delete(w.held, key)
			if len(si.clusters) == 0 {
				w.stopLocked(si)
				w.log.V(1).Info("stopped watching", "watch", key.String())
			}
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
	for key, si := range w.held {
		if names := si.clusters[key.Cluster].holders[c]; len(names) > 0 {
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
	si, ok := w.held[key]
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
