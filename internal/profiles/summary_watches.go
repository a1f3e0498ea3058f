package profiles

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/remote"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// Field indexes of ClusterSummaries, mapping a change back to the summaries it concerns.
const (
	// referencedIndex: "Kind/namespace/name" of each ConfigMap/Secret a summary reads.
	referencedIndex = "tugboat.referenced"
	// clusterIndex: the summary's cluster (libv1beta1.ClusterID.String()).
	clusterIndex = "tugboat.cluster"
)

// SetupWithManager watches summaries, the ConfigMaps/Secrets they reference,
// their clusters and their profiles.
func (r *SummaryReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	summaryCache := mgr.GetCache()
	r.drift = newDriftWatcher(r.Registry, func(cluster libv1beta1.ClusterID) []types.NamespacedName {
		list := &configv1beta1.ClusterSummaryList{}
		if err := summaryCache.List(ctx, list, client.MatchingFields{clusterIndex: cluster.String()}); err != nil {
			log.FromContext(ctx).Error(err, "listing the summaries of a cluster whose drift watch stopped", "cluster", cluster.String())
			return nil
		}
		keys := make([]types.NamespacedName, 0, len(list.Items))
		for i := range list.Items {
			keys = append(keys, client.ObjectKeyFromObject(&list.Items[i]))
		}
		return keys
	})
	r.health = r.Registry.Watches().NewWatcher("health", r.healthEvent)
	if r.Fleet.Reader == nil {
		r.Fleet = clusters.FleetFor(mgr)
	}
	// Flux's source kinds served by the management cluster: they are watched below,
	// and the fetcher reads them from the same informers (no request per summary).
	var served []string
	for _, kind := range sources.Kinds() {
		gvk := sources.GVK(kind)
		if _, err := mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			log.FromContext(ctx).Info("Flux source kind not served: profiles referring to it fail until the manager restarts with Flux installed", "kind", kind)
			continue
		}
		served = append(served, kind)
	}
	if r.Sources == nil {
		var reader client.Reader = mgr.GetCache()
		if len(served) == 0 {
			// Nothing to watch: a live read says precisely that the source is missing.
			reader = mgr.GetAPIReader()
		}
		r.Sources = &sources.Fetcher{Reader: reader}
	}
	r.remoteContent = remote.NewCache()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &configv1beta1.ClusterSummary{}, referencedIndex, func(o client.Object) []string {
		s := o.(*configv1beta1.ClusterSummary)
		ns := ""
		if s.Labels[configv1beta1.ProfileNameLabel] != "" {
			ns = s.Namespace
		}
		return referencedKeys(s, ns)
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &configv1beta1.ClusterSummary{}, clusterIndex, func(o client.Object) []string {
		s := o.(*configv1beta1.ClusterSummary)
		return []string{s.Cluster().String()}
	}); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("clustersummary")
	// Flux sources, when Flux's source API is installed: a new artifact brings back
	// exactly the summaries that read that source.
	for _, kind := range served {
		src := &unstructured.Unstructured{}
		src.SetGroupVersionKind(sources.GVK(kind))
		b = b.Watches(src, handler.EnqueueRequestsFromMapFunc(r.byReference(kind)), builder.WithPredicates(artifactChanged()))
	}
	b = r.Fleet.Watch(b, handler.EnqueueRequestsFromMapFunc(r.byCluster), clusters.ViewChanged(func(o, n selection.Cluster) bool {
		// Templates see the whole cluster object (.Cluster): any change of its
		// spec (SveltosCluster spec.data, a Cluster API Cluster's topology) counts.
		// A connection coming back (Down → Healthy) brings the summaries back at
		// once, rather than when their retry backoff says. A cluster moving into
		// this manager's shard is handed over at once.
		return !equalMaps(o.Labels, n.Labels) || o.Eligible() != n.Eligible() || o.Paused != n.Paused || o.Down != n.Down ||
			o.Object.GetGeneration() != n.Object.GetGeneration() || clusters.KeyOf(o.Object) != clusters.KeyOf(n.Object)
	}))
	c, err := b.
		For(&configv1beta1.ClusterSummary{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.byReference("ConfigMap"))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.byReference("Secret"))).
		Watches(&configv1beta1.ClusterProfile{}, handler.EnqueueRequestsFromMapFunc(r.byProfile(configv1beta1.ClusterProfileKind)),
			builder.WithPredicates(predicate.AnnotationChangedPredicate{})).
		Watches(&configv1beta1.Profile{}, handler.EnqueueRequestsFromMapFunc(r.byProfile(configv1beta1.ProfileKind)),
			builder.WithPredicates(predicate.AnnotationChangedPredicate{})).
		WatchesRawSource(source.Channel(r.drift.events, &handler.EnqueueRequestForObject{})).
		// A cluster that answers again after failed probes brings its summaries
		// back at once, their retry backoff reset — also when it never went Down
		// (fewer failed probes than its threshold), which the cluster watch
		// above does not see.
		WatchesRawSource(r.Registry.ReturnSource(func(ctx context.Context, cluster libv1beta1.ClusterID) []reconcile.Request {
			return r.list(ctx, client.MatchingFields{clusterIndex: cluster.String()})
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency, RateLimiter: r.RateLimiter}).
		Build(r)
	if err != nil {
		return err
	}
	// Kinds of templateResourceRefs other than ConfigMap and Secret are watched
	// once a summary names them (template_kind_watches.go).
	r.templateKinds = &templateKindWatches{controller: c, cache: mgr.GetCache(), enqueue: r.byReference}
	return nil
}

// artifactChanged passes a source's creation, deletion and a change of its
// artifact (revision or digest), not its periodic status updates.
func artifactChanged() predicate.Predicate {
	artifact := func(o client.Object) string {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			return ""
		}
		rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision")
		digest, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "digest")
		return rev + "|" + digest
	}
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool { return artifact(e.ObjectOld) != artifact(e.ObjectNew) }}
}

func (r *SummaryReconciler) byReference(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		return r.list(ctx, client.MatchingFields{referencedIndex: kind + "/" + o.GetNamespace() + "/" + o.GetName()})
	}
}

func (r *SummaryReconciler) byCluster(ctx context.Context, o client.Object) []reconcile.Request {
	v, ok := clusters.View(o)
	if !ok {
		return nil
	}
	return r.list(ctx, client.MatchingFields{clusterIndex: v.ID.String()})
}

func (r *SummaryReconciler) byProfile(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		opts := []client.ListOption{client.MatchingLabels{configv1beta1.ProfileLabel(kind): o.GetName()}}
		if kind == configv1beta1.ProfileKind {
			opts = append(opts, client.InNamespace(o.GetNamespace()))
		}
		return r.list(ctx, opts...)
	}
}

func (r *SummaryReconciler) list(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	list := &configv1beta1.ClusterSummaryList{}
	if err := r.Client.List(ctx, list, opts...); err != nil {
		log.FromContext(ctx).Error(err, "listing ClusterSummaries")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// requeue brings another summary back to its controller (e.g. the loser of a conflict).
func (r *SummaryReconciler) requeue(key types.NamespacedName) {
	r.drift.enqueue(key)
}
