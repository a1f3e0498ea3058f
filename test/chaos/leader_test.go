package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

// leaseKey is the manager's leader election Lease (manager.DefaultOptions).
var leaseKey = types.NamespacedName{Namespace: "projectsveltos", Name: "tugboat-manager"}

// Two replicas with leader election; the leader is killed with SIGKILL at a
// random point of a rollout (one run per seed) and the standby takes over: the
// same guarantees as a restart. The killed replica comes back as the new
// standby, so every seed kills a leader.
func TestLeaderKilledMidRollout(t *testing.T) {
	const scenario = "leader killed mid-rollout (2 replicas)"
	longOnly(t)
	ctx := context.Background()
	// A Lease left by an earlier manager would make the first replica wait for it to expire.
	if err := s.mgmt.Delete(ctx, &coordinationv1.Lease{ObjectMeta: objectMeta(leaseKey)}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	sc := newScene(t)
	flags := managerFlags{leaderElect: true}
	leader := sc.startManager("replica-a", flags)
	holder := waitLeaseHolder(t, "")
	standby := sc.startManager("replica-b", flags)

	f := registerFleet(t, "leader", s.size.clusters, managed...)
	const profile = "chaos-leader"
	check := func(version string) func(context.Context) (tally, error) {
		return func(ctx context.Context) (tally, error) { return f.check(ctx, profile, version, f.clusters) }
	}
	start := time.Now()
	createProfile(t, f, profile, "v0", nil)
	if got, _ := converge(t, "first rollout", start, check("v0")); !got.converged() {
		t.FailNow()
	}
	window := time.Since(start)

	for i, seed := range s.size.seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 23))
		version := fmt.Sprintf("seed-%d", seed)
		killAfter := time.Duration(rng.Int64N(int64(window)))
		setPolicy(t, profile, version)
		time.Sleep(killAfter)
		leader.kill()
		killed := time.Now()
		before, _ := f.check(ctx, profile, version, f.clusters)
		got, took := converge(t, "after the leader's death, seed "+version, killed, check(version))
		newHolder := waitLeaseHolder(t, holder)
		s.results.record(t, outcome{Scenario: scenario, Converged: got.converged(), Duplicates: got.duplicates, Lost: got.lost,
			Converge: took.Seconds(), Note: fmt.Sprintf("seed %d: leader killed %s into the rollout with %d of %d clusters current; lease 6s",
				seed, killAfter.Round(time.Millisecond), before.current, len(f.clusters))})
		// The standby leads now; the killed replica returns as the standby.
		holder = newHolder
		leader, standby = standby, sc.startManager(fmt.Sprintf("replica-%d", i+3), flags)
	}
}

// waitLeaseHolder waits until the manager's Lease is held by someone other than
// previous, and returns the holder.
func waitLeaseHolder(t *testing.T, previous string) string {
	t.Helper()
	var holder string
	waitFor(t, "a new leader", s.size.converge, func() error {
		l := &coordinationv1.Lease{}
		if err := s.mgmt.Get(context.Background(), leaseKey, l); err != nil {
			return err
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || *l.Spec.HolderIdentity == previous {
			return fmt.Errorf("lease held by %v", l.Spec.HolderIdentity)
		}
		holder = *l.Spec.HolderIdentity
		return nil
	})
	return holder
}
