// Package classifier labels managed clusters from what they are and run:
// Classifier (Kubernetes version, resources in the cluster, judged by Lua/CEL) and
// ManagementClusterClassifier (resources of the management cluster, judged by Lua).
package classifier

import (
	"context"

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
func (c *Controllers) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	return nil
}
