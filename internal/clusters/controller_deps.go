package clusters

import (
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/metrics"
)

// ControllerDeps is what the manager hands each package of controllers that
// work on the fleet (classification, health, tenancy, support): the client of
// the management cluster, the fleet, the connections to its clusters and this
// manager's shard. internal/manager fills it once for all of them; each
// package's Controllers embeds it, adds what only it needs, and gets its
// event recorders from the manager itself.
type ControllerDeps struct {
	Client   client.Client
	Fleet    Fleet
	Registry *Registry
	Shard    Shard
	// Concurrency is how many objects of one kind are reconciled at once (0: DefaultConcurrency).
	Concurrency int
	// Namespace is Tugboat's own namespace.
	Namespace string
	Metrics   *metrics.Metrics
}

// DefaultConcurrency is how many objects of one kind are reconciled at once
// when ControllerDeps.Concurrency is 0.
const DefaultConcurrency = 10

// FleetOf returns the Fleet given, or the manager's own when none was (tests
// that set up one package's controllers alone).
func (d ControllerDeps) FleetOf(mgr ctrl.Manager) Fleet {
	if d.Fleet.Reader == nil {
		return FleetFor(mgr)
	}
	return d.Fleet
}

// Workers is Concurrency, DefaultConcurrency when unset.
func (d ControllerDeps) Workers() int {
	if d.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return d.Concurrency
}
