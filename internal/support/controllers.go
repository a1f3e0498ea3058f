// Package support helps people debug the platform: DebuggingConfiguration
// changes log levels per component at run time, Techsupport collects objects,
// events and logs into an archive with Secret data redacted.
package support

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/metrics"
)

// Controllers holds what the support controllers share with the rest of the manager.
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

// SetupWithManager registers the controllers (DebuggingConfiguration, Techsupport).
func (c *Controllers) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	return nil
}
