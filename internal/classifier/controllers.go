// Package classifier labels managed clusters from what they are and run:
// Classifier (Kubernetes version, resources in the cluster, judged by Lua/CEL) and
// ManagementClusterClassifier (resources of the management cluster, judged by Lua).
// Everything is evaluated by the manager, through the shared watches of
// internal/clusters: nothing runs in the managed clusters.
package classifier

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/metrics"
)

// Controllers holds what the classifier controllers share with the rest of the manager.
// internal/manager fills it; the controllers get their event recorders from the
// manager themselves.
type Controllers struct {
	Client      client.Client
	Fleet       clusters.Fleet
	Registry    *clusters.Registry
	Shard       clusters.Shard
	Concurrency int
	// Namespace is Tugboat's own namespace.
	Namespace string
	Metrics   *metrics.Metrics
}

// SetupWithManager registers the controllers (Classifier, ManagementClusterClassifier).
func (c *Controllers) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	concurrency := c.Concurrency
	if concurrency == 0 {
		concurrency = 10
	}
	fleet := c.Fleet
	if fleet.Reader == nil {
		fleet = clusters.FleetFor(mgr)
	}
	classifiers := &classifierReconciler{
		client:      c.Client,
		fleet:       fleet,
		registry:    c.Registry,
		shard:       c.Shard,
		recorder:    mgr.GetEventRecorder("tugboat-classifier-controller"),
		concurrency: concurrency,
	}
	if err := classifiers.setupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Classifier controller: %w", err)
	}
	mgmt := &managementReconciler{
		client:      c.Client,
		fleet:       fleet,
		registry:    c.Registry,
		shard:       c.Shard,
		recorder:    mgr.GetEventRecorder("tugboat-managementclusterclassifier-controller"),
		concurrency: concurrency,
	}
	if err := mgmt.setupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the ManagementClusterClassifier controller: %w", err)
	}
	return nil
}
