package profiles

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/event"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// driftWatcher watches, in managed clusters, the objects Tugboat deployed for
// summaries in ContinuousWithDriftDetection mode, and brings a summary back when
// one of its objects is changed or deleted by someone else. It needs nothing in
// the managed cluster: informers run in the manager, filtered by Tugboat's
// reason label so they cache only Tugboat's objects.
type driftWatcher struct {
	registry *clusters.Registry
	// events feeds the summary controller (a source.Channel).
	events chan event.GenericEvent

	mu sync.Mutex
	// factories holds one filtered informer factory per live connection.
	factories map[*clusters.Connection]*driftFactory
	// drifted holds the summaries whose objects drifted since their last reconcile.
	drifted map[types.NamespacedName]bool

	// helmFactories watch, per live connection, the objects Helm installed
	// (label app.kubernetes.io/managed-by=Helm): they do not carry Tugboat's
	// reason label, Helm's release annotations tie them to a release.
	helmFactories map[*clusters.Connection]*driftFactory
	// releases maps a release in a cluster to the summary managing it, filled
	// when the summary deploys it.
	releases map[helmRelease]types.NamespacedName
	// helmDrifted holds, per summary, the releases ("namespace/name") whose
	// objects drifted since they were last re-applied.
	helmDrifted map[types.NamespacedName]map[string]bool
}

// helmRelease is a release in a managed cluster.
type helmRelease struct {
	cluster         types.NamespacedName
	namespace, name string
}

// Helm's release tracking metadata on the objects it installs.
const (
	helmManagedByLabel        = "app.kubernetes.io/managed-by"
	helmReleaseNameAnnotation = "meta.helm.sh/release-name"
	helmReleaseNSAnnotation   = "meta.helm.sh/release-namespace"
)

type driftFactory struct {
	factory dynamicinformer.DynamicSharedInformerFactory
	watched map[schema.GroupVersionKind]bool
	stop    chan struct{}
}

func newDriftWatcher(registry *clusters.Registry) *driftWatcher {
	return &driftWatcher{
		registry:  registry,
		events:    make(chan event.GenericEvent, 1024),
		factories: map[*clusters.Connection]*driftFactory{},
		drifted:   map[types.NamespacedName]bool{},

		helmFactories: map[*clusters.Connection]*driftFactory{},
		releases:      map[helmRelease]types.NamespacedName{},
		helmDrifted:   map[types.NamespacedName]map[string]bool{},
	}
}

// watch makes sure the kinds are watched in the cluster. Watching is shared by
// every summary deploying to that cluster; the informers stop when the
// connection is closed (kubeconfig changed, cluster deleted).
func (w *driftWatcher) watch(ctx context.Context, cluster types.NamespacedName, gvks []schema.GroupVersionKind) error {
	return w.ensure(ctx, cluster, gvks, w.factories, libv1beta1.ReasonLabel, w.handler(cluster))
}

// ensure starts, in the cluster, informers for the kinds not watched yet in
// factories, listing only objects matching selector and notifying h.
func (w *driftWatcher) ensure(ctx context.Context, cluster types.NamespacedName, gvks []schema.GroupVersionKind,
	factories map[*clusters.Connection]*driftFactory, selector string, h cache.ResourceEventHandler) error {
	conn, err := w.registry.Get(ctx, cluster)
	if err != nil {
		return err
	}
	mapper, err := conn.RESTMapper()
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for c, f := range factories {
		if c.Closed() {
			close(f.stop)
			delete(factories, c)
		}
	}
	f, ok := factories[conn]
	if !ok {
		dyn, err := conn.Dynamic()
		if err != nil {
			return err
		}
		f = &driftFactory{
			factory: dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, "", func(o *metav1.ListOptions) {
				o.LabelSelector = selector
			}),
			watched: map[schema.GroupVersionKind]bool{},
			stop:    make(chan struct{}),
		}
		factories[conn] = f
	}
	started := false
	for _, gvk := range gvks {
		if f.watched[gvk] {
			continue
		}
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("watching %s in cluster %s for drift: %w", gvk.Kind, cluster, err)
		}
		inf := f.factory.ForResource(m.Resource).Informer()
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
		f.watched[gvk] = true
		started = true
	}
	if started {
		f.factory.Start(f.stop)
	}
	return nil
}

// handler maps a change of a deployed object to its summary.
func (w *driftWatcher) handler(cluster types.NamespacedName) cache.ResourceEventHandler {
	notify := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		ann := u.GetAnnotations()
		kind, name := ann[libv1beta1.OwnerKindAnnotation], ann[libv1beta1.OwnerNameAnnotation]
		if kind == "" || name == "" {
			return
		}
		if c := ann[deployer.ClusterAnnotation]; c != "" && c != cluster.String() {
			return // deployed for another registration of the same API server
		}
		key := types.NamespacedName{Namespace: cluster.Namespace, Name: configv1beta1.ClusterSummaryName(kind, name, cluster.Name)}
		w.mu.Lock()
		w.drifted[key] = true
		w.mu.Unlock()
		s := &configv1beta1.ClusterSummary{}
		s.Namespace, s.Name = key.Namespace, key.Name
		select {
		case w.events <- event.GenericEvent{Object: s}:
		default: // the controller is behind; the summary is marked and its next reconcile repairs it
		}
	}
	return changeHandler(notify)
}

// changeHandler calls notify for deletions and for updates that change content.
func changeHandler(notify func(obj any)) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			o, n := oldObj.(*unstructured.Unstructured), newObj.(*unstructured.Unstructured)
			if o.GetResourceVersion() == n.GetResourceVersion() || !contentChanged(o, n) {
				return
			}
			notify(newObj)
		},
		DeleteFunc: notify,
	}
}

// watchHelm records that summary manages the release in the cluster and makes
// sure the kinds of the release's objects are watched there. A deleted or
// changed object of the release marks the release drifted for that summary.
func (w *driftWatcher) watchHelm(ctx context.Context, cluster, summary types.NamespacedName, namespace, name string, gvks []schema.GroupVersionKind) error {
	w.mu.Lock()
	w.releases[helmRelease{cluster: cluster, namespace: namespace, name: name}] = summary
	w.mu.Unlock()
	return w.ensure(ctx, cluster, gvks, w.helmFactories, helmManagedByLabel+"=Helm", w.helmHandler(cluster))
}

// watchingRelease says whether the release is known to be managed by summary
// (a manager restart forgets it until the summary deploys again).
func (w *driftWatcher) watchingRelease(cluster, summary types.NamespacedName, namespace, name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.releases[helmRelease{cluster: cluster, namespace: namespace, name: name}] == summary
}

// forgetRelease stops mapping the release to summary (uninstalled, lost, withdrawn).
func (w *driftWatcher) forgetRelease(cluster, summary types.NamespacedName, namespace, name string) {
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

// helmHandler maps a change of a Helm-installed object to the summary managing its release.
func (w *driftWatcher) helmHandler(cluster types.NamespacedName) cache.ResourceEventHandler {
	return changeHandler(func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		ann := u.GetAnnotations()
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
		if !ok {
			return
		}
		s := &configv1beta1.ClusterSummary{}
		s.Namespace, s.Name = key.Namespace, key.Name
		select {
		case w.events <- event.GenericEvent{Object: s}:
		default: // the summary is marked; its next reconcile repairs it
		}
	})
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
