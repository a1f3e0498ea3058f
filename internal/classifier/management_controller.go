package classifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/scripting"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// ManagementClusterClassifierFinalizer holds a ManagementClusterClassifier
// until the labels it manages are gone.
const ManagementClusterClassifierFinalizer = "managementclusterclassifierfinalizer.projectsveltos.io"

// managementReconciler evaluates each ManagementClusterClassifier over the
// resources of the management cluster and labels the clusters its script names.
// Its watches hold, per ManagementClusterClassifier, the kinds its
// matchResources select in the management cluster.
type managementReconciler struct{ fleetWatcher }

func (r *managementReconciler) setupWithManager(mgr ctrl.Manager) error {
	return r.setup(mgr, "managementclusterclassifier", &libv1beta1.ManagementClusterClassifier{},
		func() client.ObjectList { return &libv1beta1.ManagementClusterClassifierList{} }, r)
}

// Reconcile selects the matchResources in the management cluster, runs the
// classificationLua over them, labels the clusters it returns and unlabels
// the others. A failure keeps every label as it was; it and the skipped
// entries are reported in status.failureMessage (written once on the way out)
// and in an Event when they change.
func (r *managementReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	mcc := &libv1beta1.ManagementClusterClassifier{}
	if err := r.client.Get(ctx, req.NamespacedName, mcc); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading ManagementClusterClassifier %s: %w", req.Name, err)
		}
		r.watcher.Release(req.Name, nil)
		return ctrl.Result{}, nil
	}
	owner := labelOwner(libv1beta1.ManagementClusterClassifierKind, mcc.Name)
	if !mcc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, mcc, owner)
	}
	if controllerutil.AddFinalizer(mcc, ManagementClusterClassifierFinalizer) {
		if err := r.client.Update(ctx, mcc); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer of ManagementClusterClassifier %s: %w", mcc.Name, err)
		}
	}
	patcher := conditions.NewStatusPatcher(r.client, mcc)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, mcc)) }()
	previous := ptr.Deref(mcc.Status.FailureMessage, "")

	keep := map[clusters.WatchKey]bool{}
	targets, problems, pending, err := r.evaluate(ctx, mcc, keep)
	r.watcher.Release(mcc.Name, keep)
	if err != nil {
		msg := err.Error() + "; labels stay as they were"
		mcc.Status.FailureMessage = &msg
		if msg != previous {
			r.event(mcc, corev1.EventTypeWarning, reasonClassificationFailed, "%s", msg)
		}
		return ctrl.Result{}, nil
	}
	if pending {
		return ctrl.Result{}, nil // told when the informers have synced
	}

	fleet, err := r.fleet.List(ctx, "")
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("ManagementClusterClassifier %s: %w", mcc.Name, err)
	}
	slices.SortFunc(fleet, func(a, b selection.Cluster) int { return selection.CompareIDs(a.ID, b.ID) })
	found := map[libv1beta1.ClusterID]bool{}
	var errs []error
	for _, c := range fleet {
		id := c.ID.Normal()
		found[id] = true
		if c.Deleting || !r.shard.Owns(c.Object) {
			continue
		}
		var want []libv1beta1.ClassifierLabel
		if targets[id] {
			want = mcc.Spec.ClassifierLabels
		}
		plan, err := labelCluster(ctx, r.client, c.Object, owner, want)
		if err != nil {
			if apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("ManagementClusterClassifier %s: %w", mcc.Name, err))
			} else {
				problems = append(problems, err.Error())
			}
			continue
		}
		for _, u := range plan.unmanaged {
			problems = append(problems, fmt.Sprintf("cluster %s: %s", id, *u.FailureMessage))
		}
	}
	for _, id := range sortedIDs(targets) {
		if !found[id] {
			problems = append(problems, fmt.Sprintf("classificationLua returned %s %s, which does not exist", id.Kind(), id))
		}
	}
	mcc.Status.FailureMessage = nil
	if len(problems) > 0 {
		msg := strings.Join(problems, "; ")
		mcc.Status.FailureMessage = &msg
		if msg != previous {
			r.event(mcc, corev1.EventTypeWarning, reasonIncomplete, "%s", msg)
		}
	}
	return ctrl.Result{}, errors.Join(errs...)
}

// evaluate runs the classificationLua over the selected resources of the
// management cluster and returns the clusters it names (targets) and the
// entries it skipped (problems). pending is true while an informer has not
// synced; err is a failure that decides nothing.
func (r *managementReconciler) evaluate(ctx context.Context, mcc *libv1beta1.ManagementClusterClassifier,
	keep map[clusters.WatchKey]bool) (targets map[libv1beta1.ClusterID]bool, problems []string, pending bool, err error) {
	matchers, err := compileSelectors("matchResources", mcc.Spec.MatchResources)
	if err != nil {
		return nil, nil, false, err
	}
	script, err := scripting.CompileLua(mcc.Spec.ClassificationLua)
	if err != nil {
		return nil, nil, false, fmt.Errorf("classificationLua: %w", err)
	}
	mgmt, ok := r.registry.Management()
	if !ok {
		return nil, nil, false, fmt.Errorf("the manager has no connection to the management cluster to watch matchResources in")
	}
	sel, synced, err := watchAndSelect(ctx, r.watcher, mcc.Name, mgmt, "matchResources", matchers, keep)
	if err != nil || !synced {
		return nil, nil, !synced && err == nil, err
	}
	// The resources are both evaluate()'s argument and the global `resources`.
	entries, err := script.EvaluateList(map[string]any{"resources": sel.resources}, sel.resources)
	if err != nil {
		return nil, nil, false, fmt.Errorf("classificationLua: %w", err)
	}
	targets = map[libv1beta1.ClusterID]bool{}
	for i, e := range entries {
		id, problem := clusterFromEntry(e)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("classificationLua entry %d skipped: %s", i+1, problem))
			continue
		}
		targets[id] = true
	}
	return targets, problems, false, nil
}

// clusterFromEntry reads one {namespace, name, kind} entry of classificationLua's result.
func clusterFromEntry(e map[string]any) (libv1beta1.ClusterID, string) {
	ns, _ := e["namespace"].(string)
	name, _ := e["name"].(string)
	kind, _ := e["kind"].(string)
	if ns == "" || name == "" {
		return libv1beta1.ClusterID{}, fmt.Sprintf("namespace and name are required (got namespace %q, name %q)", ns, name)
	}
	switch kind {
	case libv1beta1.SveltosClusterKind:
		return libv1beta1.SveltosClusterID(ns, name), ""
	case libv1beta1.CAPIClusterKind:
		return libv1beta1.CAPIClusterID(ns, name), ""
	case "":
		return libv1beta1.ClusterID{}, fmt.Sprintf("%s/%s has no kind (want SveltosCluster or Cluster)", ns, name)
	}
	return libv1beta1.ClusterID{}, fmt.Sprintf("%s/%s has kind %q (want SveltosCluster or Cluster)", ns, name, kind)
}

func sortedIDs(set map[libv1beta1.ClusterID]bool) []libv1beta1.ClusterID {
	out := make([]libv1beta1.ClusterID, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.SortFunc(out, selection.CompareIDs)
	return out
}

func (r *managementReconciler) event(obj client.Object, eventType, reason, format string, args ...any) {
	if r.recorder != nil {
		r.recorder.Eventf(obj, nil, eventType, reason, "Classify", format, args...)
	}
}

// finalize takes off every label the ManagementClusterClassifier manages,
// stops its watches and lets it go.
func (r *managementReconciler) finalize(ctx context.Context, mcc *libv1beta1.ManagementClusterClassifier, owner string) error {
	if controllerutil.ContainsFinalizer(mcc, ManagementClusterClassifierFinalizer) {
		if err := unlabelFleet(ctx, r.client, r.fleet, r.shard, owner); err != nil {
			return fmt.Errorf("removing the labels of ManagementClusterClassifier %s: %w", mcc.Name, err)
		}
		before := mcc.DeepCopy()
		controllerutil.RemoveFinalizer(mcc, ManagementClusterClassifierFinalizer)
		if err := r.client.Patch(ctx, mcc, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing the finalizer of ManagementClusterClassifier %s: %w", mcc.Name, err)
		}
	}
	r.watcher.Release(mcc.Name, nil)
	return nil
}
