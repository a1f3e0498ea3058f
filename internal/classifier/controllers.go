// Package classifier labels managed clusters from what they are and run:
// Classifier (Kubernetes version, resources in the cluster, judged by Lua/CEL) and
// ManagementClusterClassifier (resources of the management cluster, judged by Lua).
// Everything is evaluated by the manager, through the shared watches of
// internal/clusters: nothing runs in the managed clusters.
package classifier

import (
	"context"
	"fmt"

	kevents "k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// Controllers holds what the classifier controllers share with the rest of the manager.
type Controllers struct {
	clusters.ControllerDeps
}

// SetupWithManager registers the controllers (Classifier, ManagementClusterClassifier).
func (c *Controllers) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	classifiers := &classifierReconciler{c.fleetWatcher(mgr, "tugboat-classifier-controller")}
	if err := classifiers.setupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Classifier controller: %w", err)
	}
	mgmt := &managementReconciler{c.fleetWatcher(mgr, "tugboat-managementclusterclassifier-controller")}
	if err := mgmt.setupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the ManagementClusterClassifier controller: %w", err)
	}
	return nil
}

// fleetWatcher is what both classifier reconcilers are built on, with its
// own event recorder.
func (c *Controllers) fleetWatcher(mgr ctrl.Manager, recorder string) fleetWatcher {
	return fleetWatcher{client: c.Client, fleet: c.FleetOf(mgr), registry: c.Registry, shard: c.Shard,
		recorder: mgr.GetEventRecorder(recorder), concurrency: c.Workers()}
}

// fleetWatcher is the part both classifier reconcilers share: the clients,
// the fleet and this manager's shard, and the watches each object holds in
// the clusters (watcher), whose events queue turns into requests.
type fleetWatcher struct {
	client      client.Client
	fleet       clusters.Fleet
	registry    *clusters.Registry
	shard       clusters.Shard
	recorder    kevents.EventRecorder
	concurrency int

	watcher *clusters.Watcher
	queue   clusters.HolderQueue
}

// setup registers reconciler as the controller named name for obj's kind:
// its objects, the events of the watches they hold, and every change of a
// cluster in the fleet (which brings back every object of newList's kind).
func (f *fleetWatcher) setup(mgr ctrl.Manager, name string, obj client.Object, newList func() client.ObjectList, reconciler reconcile.Reconciler) error {
	f.watcher = f.registry.Watches().NewWatcher(name, f.queue.Handle)
	b := ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(obj, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: f.concurrency}).
		WatchesRawSource(f.queue.Source())
	b = f.fleet.Watch(b, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		return clusters.ListRequests(ctx, f.client, newList(), nil)
	}))
	return b.Complete(reconciler)
}
