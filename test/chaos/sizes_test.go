package chaos_test

import (
	"testing"
	"time"
)

// sizes are the dimensions of one variant of the scenarios.
type sizes struct {
	long bool
	// all runs every scenario, also those only the long variant runs otherwise.
	all bool
	// clusters is how many SveltosClusters the kill scenarios (SIGKILL, leader
	// change) roll out to, over the managed API servers: 200 in the long
	// variant, the size of the rollout issue #22 asks for.
	clusters int
	// outageFleet sizes the fleets of the outage scenarios: half of it for a
	// managed API server's outage, a quarter for the management restarts.
	outageFleet int
	// objects is how many objects each rollout profile deploys per cluster.
	objects int
	// seeds are the random seeds of the kill scenarios, one run each.
	seeds []int64
	// outage is how long a managed API server stays down.
	outage time.Duration
	// storm is how many matching objects an event storm creates (and deletes).
	storm int
	// converge bounds a wait for convergence (a run not converged by then counts as not converged).
	converge time.Duration
}

// shortSizes keep the package within a few minutes on two loaded cores (make test).
func shortSizes() sizes {
	return sizes{clusters: 10, outageFleet: 10, objects: 10, seeds: []int64{1}, outage: 20 * time.Second, storm: 200, converge: 3 * time.Minute}
}

// longSizes are make chaos's.
func longSizes() sizes {
	return sizes{long: true, clusters: 200, outageFleet: 100, objects: 10, seeds: []int64{1, 2, 3, 4, 5}, outage: 5 * time.Minute, storm: 1000,
		converge: 10 * time.Minute}
}

// longOnly skips a scenario too slow for make test's budget, unless the long
// variant runs (TUGBOAT_CHAOS=long, make chaos) or TUGBOAT_CHAOS=all asks for
// every scenario at the short sizes.
func longOnly(t *testing.T) {
	t.Helper()
	if !s.size.long && !s.size.all {
		t.Skip("long variant only: TUGBOAT_CHAOS=long (make chaos), or TUGBOAT_CHAOS=all for every scenario at the short sizes")
	}
}
