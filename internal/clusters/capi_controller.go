package clusters

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// CAPIReconciler closes the registry's connection to a Cluster API cluster when
// its Cluster is deleted. Cluster API clusters are not probed: their readiness
// is what Cluster API reports (see View), their kubeconfig the Secret it
// writes, read by the Registry.
type CAPIReconciler struct {
	Fleet    Fleet
	Registry *Registry
}

// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters,verbs=get;list;watch

// SetupWithManager watches Cluster API Clusters; without Cluster API
// (Fleet.CAPI is CAPINone) there is nothing to watch and nothing is set up.
func (r *CAPIReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Fleet.Reader == nil {
		r.Fleet = FleetFor(mgr)
	}
	obj := r.Fleet.newObject(libv1beta1.CAPIClusterID("", ""))
	if obj == nil {
		return nil
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("capi-cluster").
		For(obj, builder.WithPredicates(predicate.Funcs{
			CreateFunc: func(e event.CreateEvent) bool { return !e.Object.GetDeletionTimestamp().IsZero() },
			UpdateFunc: func(e event.UpdateEvent) bool { return !e.ObjectNew.GetDeletionTimestamp().IsZero() },
		})).
		Complete(r)
}

// Reconcile forgets the connection of a Cluster that is gone or going.
func (r *CAPIReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	id := libv1beta1.CAPIClusterID(req.Namespace, req.Name)
	c, err := r.Fleet.Get(ctx, id)
	if apierrors.IsNotFound(err) || (err == nil && c.Deleting) {
		r.Registry.Forget(id)
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, err
}
