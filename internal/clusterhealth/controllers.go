// Package clusterhealth watches the health of managed clusters — HealthCheck
// (resources judged by Lua, reported in HealthCheckReports) and ClusterHealthCheck
// (liveness checks per cluster) — and notifies people once per change.
package clusterhealth

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/notify"
)

// Controllers holds what the clusterhealth controllers share with the rest of the manager.
type Controllers struct {
	clusters.ControllerDeps
}

// SetupWithManager registers the controllers (HealthCheck, ClusterHealthCheck).
func (c *Controllers) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	fleet := c.FleetOf(mgr)
	if err := (&HealthCheckReconciler{
		Client:      c.Client,
		Fleet:       fleet,
		Registry:    c.Registry,
		Shard:       c.Shard,
		Recorder:    mgr.GetEventRecorder("tugboat-healthcheck-controller"),
		Concurrency: c.Concurrency,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the HealthCheck controller: %w", err)
	}
	recorder := mgr.GetEventRecorder("tugboat-clusterhealthcheck-controller")
	if err := (&ClusterHealthCheckReconciler{
		Client:      c.Client,
		Fleet:       fleet,
		Shard:       c.Shard,
		Recorder:    recorder,
		Sender:      notify.New(c.Client, recorder),
		Concurrency: c.Concurrency,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the ClusterHealthCheck controller: %w", err)
	}
	return nil
}
