// Package tenancy confines tenants to their clusters and rights: RoleRequest
// grants a tenant admin's identity a set of roles in the clusters it selects, and
// profiles labelled with that identity are deployed as it (Identities).
package tenancy

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// Controllers holds what the tenancy controllers share with the rest of the manager.
type Controllers struct {
	clusters.ControllerDeps
}

// SetupWithManager registers the controllers (RoleRequest).
func (c *Controllers) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := (&RoleRequestReconciler{
		Client:      c.Client,
		Recorder:    mgr.GetEventRecorder("tugboat-rolerequest-controller"),
		Registry:    c.Registry,
		Fleet:       c.Fleet,
		Shard:       c.Shard,
		Concurrency: c.Concurrency,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the RoleRequest controller: %w", err)
	}
	if err := mgr.Add(&AdmissionPolicies{Client: c.Client}); err != nil {
		return fmt.Errorf("setting up the tenant admission policies: %w", err)
	}
	return nil
}
