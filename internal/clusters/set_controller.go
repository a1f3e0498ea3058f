package clusters

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// SetReconciler keeps the status of ClusterSets (cluster-scoped) or Sets
// (namespaced): which clusters match, and which of them — at most maxReplicas,
// healthy ones, stable across reconciles, replaced when one goes Down — are
// selected. Profiles reach the selected clusters through setRefs.
type SetReconciler struct {
	Client client.Client
	// Fleet lists the clusters (SveltosClusters and Cluster API Clusters);
	// by default the manager's (clusters.FleetFor).
	Fleet Fleet
	// Namespaced selects Sets; otherwise ClusterSets.
	Namespaced bool
}

func (r *SetReconciler) newObject() client.Object {
	if r.Namespaced {
		return &libv1beta1.Set{}
	}
	return &libv1beta1.ClusterSet{}
}

func (r *SetReconciler) name() string {
	if r.Namespaced {
		return "set"
	}
	return "clusterset"
}

// SetupWithManager watches sets and the clusters they choose from.
func (r *SetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Fleet.Reader == nil {
		r.Fleet = FleetFor(mgr)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named(r.name()).
		For(r.newObject(), builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	return r.Fleet.Watch(b, handler.EnqueueRequestsFromMapFunc(r.allSets), ViewChanged(func(o, n selection.Cluster) bool {
		return !reflect.DeepEqual(o.Labels, n.Labels) || o.Healthy() != n.Healthy() || o.Eligible() != n.Eligible()
	})).Complete(r)
}

func (r *SetReconciler) allSets(ctx context.Context, o client.Object) []reconcile.Request {
	var keys []client.ObjectKey
	if r.Namespaced {
		list := &libv1beta1.SetList{}
		if err := r.Client.List(ctx, list, client.InNamespace(o.GetNamespace())); err != nil {
			return nil
		}
		for i := range list.Items {
			keys = append(keys, client.ObjectKeyFromObject(&list.Items[i]))
		}
	} else {
		list := &libv1beta1.ClusterSetList{}
		if err := r.Client.List(ctx, list); err != nil {
			return nil
		}
		for i := range list.Items {
			keys = append(keys, client.ObjectKeyFromObject(&list.Items[i]))
		}
	}
	reqs := make([]reconcile.Request, 0, len(keys))
	for _, k := range keys {
		reqs = append(reqs, reconcile.Request{NamespacedName: k})
	}
	return reqs
}

// Reconcile recomputes one set's matching and selected clusters. The status is
// computed in memory and written once, when Reconcile returns (nothing when it
// did not change).
func (r *SetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	obj := r.newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := conditions.NewStatusPatcher(r.Client, obj)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, obj)) }()

	var spec libv1beta1.SetSpec
	var status *libv1beta1.SetStatus
	switch s := obj.(type) {
	case *libv1beta1.Set:
		spec, status = s.Spec, &s.Status
	case *libv1beta1.ClusterSet:
		spec, status = s.Spec, &s.Status
	}
	fleet, err := r.Fleet.List(ctx, req.Namespace)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("listing clusters for %s %s: %w", r.name(), req.NamespacedName, err)
	}
	next, err := selection.SelectSet(req.Namespace, spec, status.SelectedClusterRefs, fleet)
	if err != nil {
		// Keep the last selection: profiles keep their clusters.
		msg := err.Error()
		status.FailureMessage = &msg
		return ctrl.Result{}, nil
	}
	*status = next
	return ctrl.Result{}, nil
}
