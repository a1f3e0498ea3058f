// Package profiles runs ClusterProfiles and Profiles: the profile controller keeps
// one ClusterSummary per matching cluster, and the summary controller deploys the
// profile into its cluster through the deployer (and withdraws it when the
// summary goes away).
package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/events"
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
}

func (r *ProfileReconciler) newObject() configv1beta1.ProfileObject {
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
	all := handler.EnqueueRequestsFromMapFunc(r.allProfiles)
	return ctrl.NewControllerManagedBy(mgr).
		Named("profile-"+r.Kind).
		For(r.newObject(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&libv1beta1.SveltosCluster{}, all, builder.WithPredicates(clusterMatchChanged())).
		Watches(&configv1beta1.ClusterSummary{}, handler.EnqueueRequestsFromMapFunc(r.summaryOwner)).
		Watches(&libv1beta1.ClusterSet{}, all).
		Watches(&libv1beta1.Set{}, all).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency}).
		Complete(r)
}

// clusterMatchChanged lets through the cluster changes that can change matching:
// labels, readiness, deletion.
func clusterMatchChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld.(*libv1beta1.SveltosCluster), e.ObjectNew.(*libv1beta1.SveltosCluster)
			return !equalMaps(o.Labels, n.Labels) || selection.Eligible(o) != selection.Eligible(n)
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
	var reqs []reconcile.Request
	if r.Kind == configv1beta1.ProfileKind {
		list := &configv1beta1.ProfileList{}
		if err := r.Client.List(ctx, list); err != nil {
			return nil
		}
		for i := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
		return reqs
	}
	list := &configv1beta1.ClusterProfileList{}
	if err := r.Client.List(ctx, list); err != nil {
		return nil
	}
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// Reconcile brings the summaries of one profile in line with the clusters it matches.
func (r *ProfileReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	profile := r.newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, profile); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !profile.GetDeletionTimestamp().IsZero() {
		return r.finalize(ctx, profile)
	}
	if controllerutil.AddFinalizer(profile, ProfileFinalizer) {
		if err := r.Client.Update(ctx, profile); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to %s %s: %w", r.Kind, req.NamespacedName, err)
		}
	}
	before := profile.DeepCopyObject().(configv1beta1.ProfileObject)

	matching, err := r.matchingClusters(ctx, profile)
	if err != nil {
		// Keep the summaries as they are: the last good state stays deployed.
		meta.SetStatusCondition(&profile.GetStatus().Conditions, metav1.Condition{
			Type: ConditionClustersSelected, Status: metav1.ConditionFalse, Reason: ReasonInvalidSelector,
			Message: err.Error(), ObservedGeneration: profile.GetGeneration(),
		})
		r.event(profile, corev1.EventTypeWarning, ReasonInvalidSelector, err.Error())
		return ctrl.Result{}, r.patchStatus(ctx, before, profile)
	}

	existing, err := r.summaries(ctx, profile)
	if err != nil {
		return ctrl.Result{}, err
	}
	wanted := map[string]bool{}
	byKey := map[string]*configv1beta1.ClusterSummary{}
	for i := range existing {
		byKey[existing[i].Namespace+"/"+existing[i].Name] = &existing[i]
	}
	spec := profile.GetSpec()
	// maxUpdate: at most this many clusters move to a changed spec at once; the
	// others keep the previous spec until those are Provisioned.
	budget, err := maxUpdateBudget(spec.MaxUpdate, len(matching))
	if err != nil {
		return ctrl.Result{}, err
	}
	updating, updated := []corev1.ObjectReference{}, []corev1.ObjectReference{}
	for _, cl := range matching {
		if s := byKey[cl.Namespace+"/"+configv1beta1.ClusterSummaryName(r.Kind, profile.GetName(), cl.Name)]; s != nil &&
			equality.Semantic.DeepEqual(s.Spec.ClusterProfileSpec, *spec) {
			if provisioned(s) {
				updated = append(updated, cl)
			} else {
				updating = append(updating, cl)
			}
		}
	}
	held := false
	for _, cl := range matching {
		name := configv1beta1.ClusterSummaryName(r.Kind, profile.GetName(), cl.Name)
		wanted[cl.Namespace+"/"+name] = true
		if s := byKey[cl.Namespace+"/"+name]; s != nil && !equality.Semantic.DeepEqual(s.Spec.ClusterProfileSpec, *spec) {
			if len(updating) >= budget {
				held = true
				continue
			}
			updating = append(updating, cl)
		}
		if err := r.ensureSummary(ctx, profile, cl, name, byKey[cl.Namespace+"/"+name]); err != nil {
			return ctrl.Result{}, err
		}
	}
	for i := range existing {
		s := &existing[i]
		if !wanted[s.Namespace+"/"+s.Name] && s.DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, fmt.Errorf("deleting ClusterSummary %s/%s: %w", s.Namespace, s.Name, err)
			}
		}
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
	result := ctrl.Result{}
	if held {
		// The summaries' status changes bring the profile back too; this is a safety net.
		result.RequeueAfter = 5 * time.Second
	}
	return result, r.patchStatus(ctx, before, profile)
}

// maxUpdateBudget turns maxUpdate (a number or a percentage of the matching
// clusters, default 100%) into a count, at least 1.
func maxUpdateBudget(v *intstr.IntOrString, total int) (int, error) {
	if v == nil {
		return max(total, 1), nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, total, true)
	if err != nil {
		return 0, fmt.Errorf("maxUpdate %q: %w", v.String(), err)
	}
	return max(n, 1), nil
}

// provisioned reports whether every feature of a summary is Provisioned for its current spec.
func provisioned(s *configv1beta1.ClusterSummary) bool {
	if s.Status.ObservedGeneration != s.Generation {
		return false
	}
	for _, fs := range s.Status.FeatureSummaries {
		if fs.Status != libv1beta1.FeatureStatusProvisioned {
			return false
		}
	}
	return true
}

// hashSpec identifies a profile spec in updatingClusters/updatedClusters.
func hashSpec(spec *configv1beta1.Spec) []byte {
	raw, _ := json.Marshal(spec)
	sum := sha256.Sum256(raw)
	return sum[:]
}

// failedClusters lists the matched clusters where a feature of the profile failed.
func failedClusters(summaries []configv1beta1.ClusterSummary, wanted map[string]bool) []configv1beta1.FailedCluster {
	var out []configv1beta1.FailedCluster
	for i := range summaries {
		s := &summaries[i]
		if !wanted[s.Namespace+"/"+s.Name] {
			continue
		}
		var msgs []string
		for _, fs := range s.Status.FeatureSummaries {
			if fs.Status == libv1beta1.FeatureStatusFailed && fs.FailureMessage != nil {
				msgs = append(msgs, string(fs.FeatureID)+": "+*fs.FailureMessage)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		out = append(out, configv1beta1.FailedCluster{
			ClusterRef:     corev1.ObjectReference{Kind: libv1beta1.SveltosClusterKind, APIVersion: libv1beta1.GroupVersion.String(), Namespace: s.Spec.ClusterNamespace, Name: s.Spec.ClusterName},
			FailureMessage: strings.Join(msgs, "; "),
		})
	}
	return out
}

func (r *ProfileReconciler) matchingClusters(ctx context.Context, profile configv1beta1.ProfileObject) ([]corev1.ObjectReference, error) {
	namespace := profile.GetNamespace()
	clusterList := &libv1beta1.SveltosClusterList{}
	if err := r.Client.List(ctx, clusterList, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing clusters: %w", err)
	}
	setSelected := map[string][]corev1.ObjectReference{}
	if len(profile.GetSpec().SetRefs) > 0 {
		if r.Kind == configv1beta1.ProfileKind {
			sets := &libv1beta1.SetList{}
			if err := r.Client.List(ctx, sets, client.InNamespace(namespace)); err != nil {
				return nil, fmt.Errorf("listing Sets: %w", err)
			}
			for _, s := range sets.Items {
				setSelected[s.Name] = s.Status.SelectedClusterRefs
			}
		} else {
			sets := &libv1beta1.ClusterSetList{}
			if err := r.Client.List(ctx, sets); err != nil {
				return nil, fmt.Errorf("listing ClusterSets: %w", err)
			}
			for _, s := range sets.Items {
				setSelected[s.Name] = s.Status.SelectedClusterRefs
			}
		}
	}
	scope, _ := selection.ProfileScope(namespace, profile.GetSpec(), setSelected)
	return selection.MatchingClusters(scope, clusterList.Items)
}

// ensureSummary creates or updates the summary of the profile in one cluster.
// existing is the summary as last seen (nil if none): when it is already what
// the profile wants, nothing is done — a profile with N clusters is reconciled on
// every summary status change, so this keeps that O(N) cheap checks.
func (r *ProfileReconciler) ensureSummary(ctx context.Context, profile configv1beta1.ProfileObject, cl corev1.ObjectReference, name string, existing *configv1beta1.ClusterSummary) error {
	if existing != nil && existing.DeletionTimestamp.IsZero() &&
		existing.Labels[configv1beta1.ProfileLabel(r.Kind)] == profile.GetName() &&
		existing.Labels[configv1beta1.ClusterNameLabel] == cl.Name &&
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
		s.Labels[configv1beta1.ClusterTypeLabel] = string(libv1beta1.ClusterTypeSveltos)
		s.Spec.ClusterNamespace = cl.Namespace
		s.Spec.ClusterName = cl.Name
		s.Spec.ClusterType = libv1beta1.ClusterTypeSveltos
		s.Spec.ClusterProfileSpec = *profile.GetSpec().DeepCopy()
		s.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: configv1beta1.GroupVersion.String(), Kind: r.Kind,
			Name: profile.GetName(), UID: profile.GetUID(),
		}}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing ClusterSummary %s/%s: %w", cl.Namespace, name, err)
	}
	return nil
}

func (r *ProfileReconciler) summaries(ctx context.Context, profile configv1beta1.ProfileObject) ([]configv1beta1.ClusterSummary, error) {
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

// finalize deletes every summary of a deleted profile and lets the profile go
// once they are all gone (each summary withdraws what it deployed first).
func (r *ProfileReconciler) finalize(ctx context.Context, profile configv1beta1.ProfileObject) (ctrl.Result, error) {
	existing, err := r.summaries(ctx, profile)
	if err != nil {
		return ctrl.Result{}, err
	}
	for i := range existing {
		if existing[i].DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, &existing[i]); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, fmt.Errorf("deleting ClusterSummary %s/%s: %w", existing[i].Namespace, existing[i].Name, err)
			}
		}
	}
	if len(existing) > 0 {
		return ctrl.Result{RequeueAfter: 500 * time.Millisecond}, nil
	}
	if controllerutil.RemoveFinalizer(profile, ProfileFinalizer) {
		if err := r.Client.Update(ctx, profile); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("removing finalizer of %s %s: %w", r.Kind, profile.GetName(), err)
		}
	}
	return ctrl.Result{}, nil
}

func (r *ProfileReconciler) patchStatus(ctx context.Context, before, after configv1beta1.ProfileObject) error {
	if err := r.Client.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("updating status of %s %s: %w", r.Kind, after.GetName(), err)
	}
	return nil
}

func (r *ProfileReconciler) event(obj client.Object, kind, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, kind, reason, "Select", "%s", msg)
	}
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
