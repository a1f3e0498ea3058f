// Package profiles runs ClusterProfiles and Profiles: the profile controller keeps
// one ClusterSummary per matching cluster, and the summary controller deploys the
// profile into its cluster through the deployer (and withdraws it when the
// summary goes away).
package profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// ProfileFinalizer keeps a profile until every ClusterSummary it created is gone
// (withdrawn according to stopMatchingBehavior).
const ProfileFinalizer = "config.projectsveltos.io/profile"

// Condition types and reasons of profiles.
const (
	ConditionClustersSelected = "ClustersSelected"
	ReasonSelected            = "Selected"
	ReasonInvalidSelector     = "InvalidSelector"
)

// ProfileReconciler keeps the ClusterSummaries of one kind of profile
// (ClusterProfile or Profile) in line with the clusters it matches.
type ProfileReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Kind is configv1beta1.ClusterProfileKind or configv1beta1.ProfileKind.
	Kind        string
	Concurrency int
	// Fleet lists the clusters profiles choose from (SveltosClusters and
	// Cluster API Clusters); by default the manager's (clusters.FleetFor).
	Fleet clusters.Fleet
}

// profileObject is a ClusterProfile or a Profile.
type profileObject interface {
	configv1beta1.ProfileObject
	conditions.Holder
}

func (r *ProfileReconciler) newObject() profileObject {
	if r.Kind == configv1beta1.ProfileKind {
		return &configv1beta1.Profile{}
	}
	return &configv1beta1.ClusterProfile{}
}

// SetupWithManager watches profiles, clusters and sets.
func (r *ProfileReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	if r.Fleet.Reader == nil {
		r.Fleet = clusters.FleetFor(mgr)
	}
	all := handler.EnqueueRequestsFromMapFunc(r.allProfiles)
	b := ctrl.NewControllerManagedBy(mgr).
		Named("profile-"+r.Kind).
		For(r.newObject(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&configv1beta1.ClusterSummary{}, r.summaryEvents()).
		Watches(&libv1beta1.ClusterSet{}, all).
		Watches(&libv1beta1.Set{}, all).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency})
	// Only the cluster changes that can change matching (labels, readiness,
	// deletion) or a summary's shard label.
	return r.Fleet.Watch(b, all, clusters.ViewChanged(func(o, n selection.Cluster) bool {
		return !equalMaps(o.Labels, n.Labels) || o.Eligible() != n.Eligible() || clusters.KeyOf(o.Object) != clusters.KeyOf(n.Object)
	})).Complete(r)
}

// summaryStatusDelay is how long a change of a summary's status waits before
// its profile is reconciled: the changes of that while are folded into one
// reconcile. Fanning a profile out to N clusters changes N summaries' status,
// each of which would otherwise recompute and patch a status listing N
// clusters — O(N²) work, and on a thousand clusters a write of a megabyte
// object many times a second.
const summaryStatusDelay = time.Second

// summaryEvents brings a profile back on its summaries' events: at once when one
// appears, goes or changes spec, after summaryStatusDelay when only its status
// changed.
func (r *ProfileReconciler) summaryEvents() handler.EventHandler {
	now := handler.EnqueueRequestsFromMapFunc(r.summaryOwner)
	return handler.Funcs{
		CreateFunc:  now.Create,
		DeleteFunc:  now.Delete,
		GenericFunc: now.Generic,
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() || !e.ObjectNew.GetDeletionTimestamp().IsZero() {
				now.Update(ctx, e, q)
				return
			}
			for _, req := range r.summaryOwner(ctx, e.ObjectNew) {
				q.AddAfter(req, summaryStatusDelay)
			}
		},
	}
}

// summaryOwner maps a summary to its profile, so that failedClusters follows the summaries.
func (r *ProfileReconciler) summaryOwner(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[configv1beta1.ProfileLabel(r.Kind)]
	if name == "" {
		return nil
	}
	ns := ""
	if r.Kind == configv1beta1.ProfileKind {
		ns = o.GetNamespace()
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

func (r *ProfileReconciler) allProfiles(ctx context.Context, _ client.Object) []reconcile.Request {
	var list client.ObjectList = &configv1beta1.ClusterProfileList{}
	if r.Kind == configv1beta1.ProfileKind {
		list = &configv1beta1.ProfileList{}
	}
	if err := r.Client.List(ctx, list); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o.(client.Object))})
		return nil
	})
	return reqs
}

// Reconcile brings the summaries of one profile in line with the clusters it
// matches. The profile's status (matching, updating, updated and failed
// clusters, conditions) is computed in memory on every path and written once,
// by the deferred patcher: nothing when it did not change.
func (r *ProfileReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	profile := r.newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, profile); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := conditions.NewStatusPatcher(r.Client, profile)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, profile)) }()

	if !profile.GetDeletionTimestamp().IsZero() {
		return r.finalize(ctx, profile)
	}
	if before := profile.DeepCopyObject().(client.Object); controllerutil.AddFinalizer(profile, ProfileFinalizer) {
		// A patch of the finalizers alone: an Update would write back the whole
		// spec as this Go type serializes it, fields its author never set
		// included, and move the profile's generation.
		if err := r.Client.Patch(ctx, profile, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to %s %s: %w", r.Kind, req.NamespacedName, err)
		}
	}
	result, err := r.reconcileSummaries(ctx, profile)
	if err != nil {
		conditions.MarkFailed(profile, conditions.Failed, "%v", err)
	}
	return result, err
}

// reconcileSummaries creates, updates (at most maxUpdate at a time) and deletes
// the summaries of a profile, and computes its status.
func (r *ProfileReconciler) reconcileSummaries(ctx context.Context, profile profileObject) (ctrl.Result, error) {
	candidates, setSelected, err := r.clusterCandidates(ctx, profile)
	if err != nil {
		return ctrl.Result{}, err
	}
	spec := profile.GetSpec()
	scope, _ := selection.ProfileScope(profile.GetNamespace(), spec, setSelected)
	matching, err := selection.MatchingClusters(scope, candidates)
	if err != nil {
		// Keep the summaries as they are: the last good state stays deployed.
		meta.SetStatusCondition(&profile.GetStatus().Conditions, metav1.Condition{
			Type: ConditionClustersSelected, Status: metav1.ConditionFalse, Reason: ReasonInvalidSelector,
			Message: err.Error(), ObservedGeneration: profile.GetGeneration(),
		})
		conditions.MarkStalled(profile, conditions.InvalidSpec, "%v", err)
		r.event(profile, corev1.EventTypeWarning, ReasonInvalidSelector, err.Error())
		return ctrl.Result{}, nil
	}
	// maxUpdate: at most this many clusters move to a changed spec at once; the
	// others keep the previous spec until those are Provisioned.
	budget, err := maxUpdateBudget(spec.MaxUpdate, len(matching))
	if err != nil {
		conditions.MarkStalled(profile, conditions.InvalidSpec, "%v", err)
		return ctrl.Result{}, nil
	}
	// Clusters still selected but not ready (unreachable) keep their summaries:
	// deleting them would withdraw from a cluster because of an outage.
	selected, err := selection.SelectedClusters(scope, candidates)
	if err != nil {
		return ctrl.Result{}, err
	}
	existing, err := r.summaries(ctx, profile)
	if err != nil {
		return ctrl.Result{}, err
	}
	keep := map[string]bool{}
	for _, cl := range selected {
		keep[cl.Namespace+"/"+summaryName(r.Kind, profile.GetName(), cl)] = true
	}
	wanted := map[string]bool{}
	byKey := map[string]*configv1beta1.ClusterSummary{}
	for i := range existing {
		byKey[existing[i].Namespace+"/"+existing[i].Name] = &existing[i]
	}
	updating, updated := []corev1.ObjectReference{}, []corev1.ObjectReference{}
	for _, cl := range matching {
		if s := byKey[cl.Namespace+"/"+summaryName(r.Kind, profile.GetName(), cl)]; s != nil &&
			equality.Semantic.DeepEqual(s.Spec.ClusterProfileSpec, *spec) {
			if provisioned(s) {
				updated = append(updated, cl)
			} else {
				updating = append(updating, cl)
			}
		}
	}
	held := false
	// Each summary carries its cluster's shard key, for the shard manager's cache.
	shardOf := map[corev1.ObjectReference]string{}
	for _, c := range candidates {
		if k := clusters.KeyOf(c.Object); k != "" {
			shardOf[c.Ref()] = k
		}
	}
	// The summaries to write or delete, written concurrently once all are known.
	var ensure []func(context.Context) error
	for _, cl := range matching {
		name := summaryName(r.Kind, profile.GetName(), cl)
		wanted[cl.Namespace+"/"+name] = true
		if s := byKey[cl.Namespace+"/"+name]; s != nil && !equality.Semantic.DeepEqual(s.Spec.ClusterProfileSpec, *spec) {
			if len(updating) >= budget {
				held = true
				continue
			}
			updating = append(updating, cl)
		}
		ensure = append(ensure, func(ctx context.Context) error {
			return r.ensureSummary(ctx, profile, cl, shardOf[cl], name, byKey[cl.Namespace+"/"+name])
		})
	}
	for i := range existing {
		s := &existing[i]
		if !wanted[s.Namespace+"/"+s.Name] && !keep[s.Namespace+"/"+s.Name] && s.DeletionTimestamp.IsZero() {
			ensure = append(ensure, func(ctx context.Context) error { return r.deleteSummary(ctx, s) })
		}
	}
	if err := concurrently(ctx, ensure); err != nil {
		return ctrl.Result{}, err
	}

	status := profile.GetStatus()
	specHash := hashSpec(spec)
	status.UpdatingClusters = &configv1beta1.Clusters{Hash: specHash, Clusters: updating}
	status.UpdatedClusters = &configv1beta1.Clusters{Hash: specHash, Clusters: updated}
	status.MatchingClusterRefs = matching
	status.FailedClusters = failedClusters(existing, wanted)
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: ConditionClustersSelected, Status: metav1.ConditionTrue, Reason: ReasonSelected,
		Message: fmt.Sprintf("%d matching clusters", len(matching)), ObservedGeneration: profile.GetGeneration(),
	})
	markProgress(profile, len(matching), len(updated), status.FailedClusters)
	if held {
		// The summaries' status changes bring the profile back too; this is a safety net.
		return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
	}
	return ctrl.Result{}, nil
}

// clusterCandidates lists the clusters a profile can match (those of its
// namespace for a Profile) and the clusters each of its sets selected.
func (r *ProfileReconciler) clusterCandidates(ctx context.Context, profile profileObject) ([]selection.Cluster, map[string][]corev1.ObjectReference, error) {
	namespace := profile.GetNamespace()
	fleet, err := r.Fleet.List(ctx, namespace)
	if err != nil {
		return nil, nil, err
	}
	setSelected := map[string][]corev1.ObjectReference{}
	if len(profile.GetSpec().SetRefs) == 0 {
		return fleet, setSelected, nil
	}
	if r.Kind == configv1beta1.ProfileKind {
		sets := &libv1beta1.SetList{}
		if err := r.Client.List(ctx, sets, client.InNamespace(namespace)); err != nil {
			return nil, nil, fmt.Errorf("listing Sets: %w", err)
		}
		for _, s := range sets.Items {
			setSelected[s.Name] = s.Status.SelectedClusterRefs
		}
		return fleet, setSelected, nil
	}
	sets := &libv1beta1.ClusterSetList{}
	if err := r.Client.List(ctx, sets); err != nil {
		return nil, nil, fmt.Errorf("listing ClusterSets: %w", err)
	}
	for _, s := range sets.Items {
		setSelected[s.Name] = s.Status.SelectedClusterRefs
	}
	return fleet, setSelected, nil
}

// ensureSummary creates or updates the summary of the profile in one cluster
// (of shard key shard, empty when unsharded). existing is the summary as last
// seen (nil if none): when it is already what the profile wants, nothing is
// done — a profile with N clusters is reconciled on its summaries' status
// changes, so this keeps that O(N) cheap checks.
func (r *ProfileReconciler) ensureSummary(ctx context.Context, profile profileObject, cl corev1.ObjectReference, shard, name string, existing *configv1beta1.ClusterSummary) error {
	id, _ := libv1beta1.ClusterIDFromRef(cl, "")
	if existing != nil && existing.DeletionTimestamp.IsZero() &&
		existing.Labels[configv1beta1.ProfileLabel(r.Kind)] == profile.GetName() &&
		existing.Labels[configv1beta1.ClusterNameLabel] == cl.Name &&
		existing.Labels[configv1beta1.ClusterTypeLabel] == string(id.Type) &&
		existing.Labels[clusters.ShardLabel] == shard &&
		len(existing.OwnerReferences) == 1 && existing.OwnerReferences[0].UID == profile.GetUID() &&
		equality.Semantic.DeepEqual(existing.Spec.ClusterProfileSpec, *profile.GetSpec()) {
		return nil
	}
	s := &configv1beta1.ClusterSummary{ObjectMeta: metav1.ObjectMeta{Namespace: cl.Namespace, Name: name}}
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, s, func() error {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[configv1beta1.ProfileLabel(r.Kind)] = profile.GetName()
		s.Labels[configv1beta1.ClusterNameLabel] = cl.Name
		s.Labels[configv1beta1.ClusterTypeLabel] = string(id.Type)
		if shard != "" {
			s.Labels[clusters.ShardLabel] = shard
		} else {
			delete(s.Labels, clusters.ShardLabel)
		}
		s.Spec.ClusterNamespace = cl.Namespace
		s.Spec.ClusterName = cl.Name
		s.Spec.ClusterType = id.Type
		s.Spec.ClusterProfileSpec = *profile.GetSpec().DeepCopy()
		s.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: configv1beta1.GroupVersion.String(), Kind: r.Kind,
			Name: profile.GetName(), UID: profile.GetUID(),
		}}
		if s.CreationTimestamp.IsZero() {
			// Created with its finalizer: the summary's first reconcile need not write it.
			controllerutil.AddFinalizer(s, SummaryFinalizer)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing ClusterSummary %s/%s: %w", cl.Namespace, name, err)
	}
	return nil
}

func (r *ProfileReconciler) summaries(ctx context.Context, profile profileObject) ([]configv1beta1.ClusterSummary, error) {
	list := &configv1beta1.ClusterSummaryList{}
	opts := []client.ListOption{client.MatchingLabels{configv1beta1.ProfileLabel(r.Kind): profile.GetName()}}
	if r.Kind == configv1beta1.ProfileKind {
		opts = append(opts, client.InNamespace(profile.GetNamespace()))
	}
	if err := r.Client.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing ClusterSummaries of %s %s: %w", r.Kind, profile.GetName(), err)
	}
	return list.Items, nil
}

// summaryWriters bounds how many summaries of one profile are written or deleted
// at once: a profile on a thousand clusters must not wait for a thousand
// requests one after the other.
const summaryWriters = 16

// concurrently runs the writes, at most summaryWriters at a time, and returns
// the first error.
func concurrently(ctx context.Context, writes []func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(summaryWriters)
	for _, w := range writes {
		g.Go(func() error { return w(ctx) })
	}
	return g.Wait()
}

// deleteSummary deletes s; its own finalizer keeps it until it has withdrawn.
func (r *ProfileReconciler) deleteSummary(ctx context.Context, s *configv1beta1.ClusterSummary) error {
	if err := r.Client.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting ClusterSummary %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

// finalize deletes every summary of a deleted profile and lets the profile go
// once they are all gone (each summary withdraws what it deployed first).
func (r *ProfileReconciler) finalize(ctx context.Context, profile profileObject) (ctrl.Result, error) {
	existing, err := r.summaries(ctx, profile)
	if err != nil {
		return ctrl.Result{}, err
	}
	var deletes []func(context.Context) error
	for i := range existing {
		if existing[i].DeletionTimestamp.IsZero() {
			deletes = append(deletes, func(ctx context.Context) error { return r.deleteSummary(ctx, &existing[i]) })
		}
	}
	if err := concurrently(ctx, deletes); err != nil {
		return ctrl.Result{}, err
	}
	if len(existing) > 0 {
		conditions.MarkReconciling(profile, conditions.Deleting, "waiting for %d ClusterSummaries to withdraw", len(existing))
		return ctrl.Result{RequeueAfter: 500 * time.Millisecond}, nil
	}
	if controllerutil.RemoveFinalizer(profile, ProfileFinalizer) {
		if err := r.Client.Update(ctx, profile); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("removing finalizer of %s %s: %w", r.Kind, profile.GetName(), err)
		}
	}
	return ctrl.Result{}, nil
}

func (r *ProfileReconciler) event(obj client.Object, kind, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, kind, reason, "Select", "%s", msg)
	}
}

// summaryName is the name of the profile's ClusterSummary in the cluster cl
// refers to (a SveltosCluster or a Cluster API Cluster).
func summaryName(kind, profile string, cl corev1.ObjectReference) string {
	id, _ := libv1beta1.ClusterIDFromRef(cl, "")
	return configv1beta1.ClusterSummaryNameFor(kind, profile, id)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
