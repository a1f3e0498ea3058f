package profiles

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// driftWatcher watches, in managed clusters, the objects Tugboat deployed for
// summaries in ContinuousWithDriftDetection mode, and brings a summary back when
// one of its objects is changed or deleted by someone else. It needs nothing in
// the managed cluster: it watches through the registry's Watches, filtered by
// Tugboat's reason label so the informers hold only Tugboat's objects.
type driftWatcher struct {
	// watcher holds the drift watches: per cluster, the kinds deployed (objects
	// with Tugboat's reason label) and the kinds of the Helm releases (objects
	// with Helm's managed-by label), until the cluster's connection closes.
	watcher *clusters.Watcher
	// events feeds the summary controller (a source.Channel).
	events chan event.GenericEvent
	// summariesOf lists the summaries deploying to a cluster (from the
	// manager's cache), for when a drift watch of the cluster is lost.
	summariesOf func(libv1beta1.ClusterID) []types.NamespacedName

	mu sync.Mutex
	// drifted holds the summaries whose objects drifted since their last reconcile.
	drifted map[types.NamespacedName]bool
	// releases maps a release in a cluster to the summary managing it, filled
	// when the summary deploys it.
	releases map[helmRelease]types.NamespacedName
	// helmDrifted holds, per summary, the releases ("namespace/name") whose
	// objects drifted since they were last re-applied.
	helmDrifted map[types.NamespacedName]map[string]bool
}

// helmRelease is a release in a managed cluster.
type helmRelease struct {
	cluster         libv1beta1.ClusterID
	namespace, name string
}

// Helm's release tracking metadata on the objects it installs.
const (
	helmManagedByLabel        = "app.kubernetes.io/managed-by"
	helmReleaseNameAnnotation = "meta.helm.sh/release-name"
	helmReleaseNSAnnotation   = "meta.helm.sh/release-namespace"
)

// The label selectors of the drift watches, and the name they are held under.
const (
	deployedSelector = libv1beta1.ReasonLabel
	helmSelector     = helmManagedByLabel + "=Helm"
	driftHolder      = "drift-detection"
)

func newDriftWatcher(registry *clusters.Registry, summariesOf func(libv1beta1.ClusterID) []types.NamespacedName) *driftWatcher {
	w := &driftWatcher{
		events:      make(chan event.GenericEvent, 1024),
		summariesOf: summariesOf,
		drifted:     map[types.NamespacedName]bool{},
		releases:    map[helmRelease]types.NamespacedName{},
		helmDrifted: map[types.NamespacedName]map[string]bool{},
	}
	w.watcher = registry.Watches().NewWatcher("drift", w.handle)
	return w
}

// watch makes sure the kinds are watched in the cluster. Watching is shared by
// every summary deploying to that cluster; the informers stop when the
// connection is closed (kubeconfig changed, cluster deleted).
func (w *driftWatcher) watch(ctx context.Context, cluster libv1beta1.ClusterID, gvks []schema.GroupVersionKind) error {
	return w.hold(ctx, cluster, gvks, deployedSelector)
}

// hold watches the kinds in the cluster, restricted to the objects selected by selector.
func (w *driftWatcher) hold(ctx context.Context, cluster libv1beta1.ClusterID, gvks []schema.GroupVersionKind, selector string) error {
	for _, gvk := range gvks {
		if _, err := w.watcher.Watch(ctx, clusters.WatchKey{Cluster: cluster, GVK: gvk, LabelSelector: selector}, driftHolder); err != nil {
			return fmt.Errorf("drift detection: %w", err)
		}
	}
	return nil
}

// handle turns a deletion, or an update that changes content, of a watched
// object into a drift of the summary (or Helm release) it belongs to.
func (w *driftWatcher) handle(ev clusters.WatchEvent) {
	switch {
	case ev.Type == clusters.WatchDisconnected:
		w.watchLost(ev.Key)
		return
	case ev.Object == nil:
		return
	case ev.Type == clusters.WatchDeleted:
	case ev.Type == clusters.WatchUpdated && ev.Old != nil && contentChanged(ev.Old, ev.Object) && !ownApply(ev.Old, ev.Object):
	default:
		return
	}
	switch ev.Key.LabelSelector {
	case deployedSelector:
		w.deployedDrifted(ev.Key.Cluster, ev.Object)
	case helmSelector:
		w.releaseDrifted(ev.Key.Cluster, ev.Object)
	}
}

// watchLost handles a drift watch that stopped: its connection closed or the
// cluster answers again after failed probes (Watches.Rewatch). What changed
// while nobody watched is unknown, so every summary deploying to the cluster
// counts as drifted and comes back: it watches again (the releases it manages
// too) and, when it repairs drift, re-applies what it deployed.
func (w *driftWatcher) watchLost(key clusters.WatchKey) {
	if key.LabelSelector == helmSelector {
		w.forgetReleasesOf(key.Cluster)
	}
	if w.summariesOf == nil {
		return
	}
	summaries := w.summariesOf(key.Cluster)
	if key.LabelSelector == deployedSelector {
		w.mu.Lock()
		for _, s := range summaries {
			w.drifted[s] = true
		}
		w.mu.Unlock()
	}
	for _, s := range summaries {
		w.enqueue(s)
	}
}

// deployedDrifted marks the summary that deployed obj.
func (w *driftWatcher) deployedDrifted(cluster libv1beta1.ClusterID, obj *unstructured.Unstructured) {
	owner, _, ok := deployer.OwnerOf(obj)
	if !ok || owner.Kind == "" || owner.Name == "" {
		return
	}
	if owner.Cluster != "" && owner.Cluster != cluster.String() {
		return // deployed for another registration of the same API server
	}
	key := types.NamespacedName{Namespace: cluster.Namespace, Name: configv1beta1.ClusterSummaryNameFor(owner.Kind, owner.Name, cluster)}
	w.mu.Lock()
	w.drifted[key] = true
	w.mu.Unlock()
	w.enqueue(key)
}

// enqueue brings a summary to its controller.
func (w *driftWatcher) enqueue(key types.NamespacedName) {
	s := &configv1beta1.ClusterSummary{}
	s.Namespace, s.Name = key.Namespace, key.Name
	// Dropped when the controller is behind: the summary is marked and its
	// next reconcile repairs it.
	clusters.Nudge(w.events, s)
}

// watchHelm records that summary manages the release in the cluster and makes
// sure the kinds of the release's objects are watched there. A deleted or
// changed object of the release marks the release drifted for that summary.
func (w *driftWatcher) watchHelm(ctx context.Context, cluster libv1beta1.ClusterID, summary types.NamespacedName, namespace, name string, gvks []schema.GroupVersionKind) error {
	w.mu.Lock()
	w.releases[helmRelease{cluster: cluster, namespace: namespace, name: name}] = summary
	w.mu.Unlock()
	return w.hold(ctx, cluster, gvks, helmSelector)
}

// watchingRelease says whether the release is known to be managed by summary
// (a manager restart forgets it until the summary deploys again).
func (w *driftWatcher) watchingRelease(cluster libv1beta1.ClusterID, summary types.NamespacedName, namespace, name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.releases[helmRelease{cluster: cluster, namespace: namespace, name: name}] == summary
}

// forgetRelease stops mapping the release to summary (uninstalled, lost, withdrawn).
func (w *driftWatcher) forgetRelease(cluster libv1beta1.ClusterID, summary types.NamespacedName, namespace, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := helmRelease{cluster: cluster, namespace: namespace, name: name}
	if w.releases[k] == summary {
		delete(w.releases, k)
	}
	if m := w.helmDrifted[summary]; m != nil {
		delete(m, namespace+"/"+name)
	}
}

// forgetReleasesOf forgets which releases of the cluster are managed by which
// summary: their watches stopped with the connection, and a summary whose
// release is not known watches it again on its next reconcile.
func (w *driftWatcher) forgetReleasesOf(cluster libv1beta1.ClusterID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for rel := range w.releases {
		if rel.cluster == cluster {
			delete(w.releases, rel)
		}
	}
}

// releaseDrifted marks the release obj belongs to as drifted for the summary managing it.
func (w *driftWatcher) releaseDrifted(cluster libv1beta1.ClusterID, obj *unstructured.Unstructured) {
	ann := obj.GetAnnotations()
	rel := helmRelease{cluster: cluster, namespace: ann[helmReleaseNSAnnotation], name: ann[helmReleaseNameAnnotation]}
	if rel.name == "" || rel.namespace == "" {
		return
	}
	w.mu.Lock()
	key, ok := w.releases[rel]
	if ok {
		if w.helmDrifted[key] == nil {
			w.helmDrifted[key] = map[string]bool{}
		}
		w.helmDrifted[key][rel.namespace+"/"+rel.name] = true
	}
	w.mu.Unlock()
	if ok {
		w.enqueue(key)
	}
}

// takeHelmDrifted reports (and forgets) the drifted releases of a summary.
func (w *driftWatcher) takeHelmDrifted(key types.NamespacedName) map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.helmDrifted[key]
	delete(w.helmDrifted, key)
	return d
}

// markHelmDrifted puts back drifted releases a reconcile could not repair.
func (w *driftWatcher) markHelmDrifted(key types.NamespacedName, releases map[string]bool) {
	if len(releases) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.helmDrifted[key] == nil {
		w.helmDrifted[key] = map[string]bool{}
	}
	for r := range releases {
		w.helmDrifted[key][r] = true
	}
}

// takeDrifted reports (and forgets) whether a summary's objects drifted.
func (w *driftWatcher) takeDrifted(key types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.drifted[key]
	delete(w.drifted, key)
	return d
}

// contentChanged ignores changes that only touch bookkeeping metadata.
// ownApply reports whether an update is Tugboat's own deploy: it carries a new
// content hash (someone else's change leaves the hash Tugboat wrote alone).
func ownApply(old, new *unstructured.Unstructured) bool {
	h := func(u *unstructured.Unstructured) string { return u.GetAnnotations()[libv1beta1.HashAnnotation] }
	return h(old) != h(new) && h(new) != ""
}

func contentChanged(a, b *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy().Object
		if md, ok := c["metadata"].(map[string]any); ok {
			for _, k := range []string{"resourceVersion", "managedFields", "generation"} {
				delete(md, k)
			}
		}
		delete(c, "status")
		return c
	}
	return !reflect.DeepEqual(strip(a), strip(b))
}
