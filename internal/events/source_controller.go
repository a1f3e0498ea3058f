package events

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	kevents "k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

// SelectorsValidCondition says whether every resourceSelector of an EventSource
// compiles (label filters, selector, CEL rules, Lua script), and every regular
// expression of its messagingMatchCriteria.
const SelectorsValidCondition = "SelectorsValid"

// sourceReconciler reports, on each EventSource, whether its selectors compile,
// so that a broken CEL rule or Lua script is visible on the object itself.
type sourceReconciler struct {
	client client.Client
	// recorder records a Warning Event naming the part that does not compile (optional).
	recorder kevents.EventRecorder
}

func (r *sourceReconciler) setupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("eventsource").
		For(&libv1beta1.EventSource{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// Reconcile records whether the EventSource's selectors compile: SelectorsValid
// and Ready, written once on the way out.
func (r *sourceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	source := &libv1beta1.EventSource{}
	if err := r.client.Get(ctx, req.NamespacedName, source); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("reading EventSource %s: %w", req.Name, err)
		}
		return ctrl.Result{}, nil
	}
	patcher := conditions.NewStatusPatcher(r.client, source)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, source)) }()

	if err := setSelectorConditions(source); err != nil && r.recorder != nil {
		r.recorder.Eventf(source, nil, corev1.EventTypeWarning, "InvalidSelector", "Validate", "%s", err.Error())
	}
	return ctrl.Result{}, nil
}

// setSelectorConditions sets SelectorsValid and Ready from whether the
// source's selectors (and aggregatedSelection) compile, and returns the
// error of the first that does not. A selector that does not compile stalls
// the source until it is changed.
func setSelectorConditions(source *libv1beta1.EventSource) error {
	_, err := CompileSelectors(source)
	if err == nil {
		_, err = compileAggregatedSelection(source)
	}
	if err == nil {
		_, err = compileMessaging(source)
	}
	if err != nil {
		conditions.MarkFalse(source, SelectorsValidCondition, "InvalidSelector", "%s", err.Error())
		conditions.MarkStalled(source, conditions.InvalidSpec, "%s", err.Error())
		return err
	}
	what := "every resourceSelector compiles"
	if source.Spec.AggregatedSelection != "" {
		what = "every resourceSelector and the aggregatedSelection compile"
	}
	if len(source.Spec.MessagingMatchCriteria) > 0 {
		what = "every messagingMatchCriteria regular expression compiles"
	}
	conditions.MarkTrue(source, SelectorsValidCondition, "Compiled", "%s", what)
	conditions.MarkReady(source, "%s", what)
	return nil
}
