package events

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// SelectorsValidCondition says whether every resourceSelector of an EventSource
// compiles (label filters, selector, CEL rules, Lua script).
const SelectorsValidCondition = "SelectorsValid"

// sourceReconciler reports, on each EventSource, whether its selectors compile,
// so that a broken CEL rule or Lua script is visible on the object itself.
type sourceReconciler struct {
	client client.Client
}

func (r *sourceReconciler) setupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("eventsource").
		For(&libv1beta1.EventSource{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

func (r *sourceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	source := &libv1beta1.EventSource{}
	if err := r.client.Get(ctx, req.NamespacedName, source); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cond := metav1.Condition{
		Type: SelectorsValidCondition, Status: metav1.ConditionTrue, Reason: "Compiled",
		Message: "every resourceSelector compiles", ObservedGeneration: source.Generation,
	}
	if _, err := CompileSelectors(source); err != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "InvalidSelector", err.Error()
	}
	patch := client.MergeFrom(source.DeepCopy())
	if !meta.SetStatusCondition(&source.Status.Conditions, cond) {
		return ctrl.Result{}, nil
	}
	if err := r.client.Status().Patch(ctx, source, patch); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("writing status of EventSource %s: %w", source.Name, err)
	}
	return ctrl.Result{}, nil
}
