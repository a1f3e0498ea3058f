package chaos_test

import (
	"context"
	"fmt"
	"os"
	"strings"
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
	// Each replica is supervised, as a Deployment's pods are: a killed replica
	// comes back as the standby, and a replica that loses its Lease under load
	// (it exits) comes back too.
	replicas := []*supervisor{sc.supervise("replica-a", flags)}
	holder := waitLeaseHolder(t, "")
	replicas = append(replicas, sc.supervise("replica-b", flags))

	f := registerFleet(t, "leader", s.size.clusters, managed...)
	const profile = "chaos-leader"
	check, window := firstRollout(t, f, profile)

	for _, seed := range s.size.seeds {
		_, version, killAfter := rolloutToKill(t, profile, seed, 23, window)
		leader := leading(replicas)
		if leader == nil {
			t.Fatal("no replica says it holds the Lease")
		}
		leader.current().kill()
		killed := time.Now()
		before, _ := f.check(ctx, profile, version, f.clusters)
		got, took := converge(t, "after the leader's death, seed "+version, killed, check(version))
		holder = waitLeaseHolder(t, holder)
		var exits []string
		for _, r := range replicas {
			why, _ := r.restartCount()
			exits = append(exits, why...)
		}
		s.results.record(t, outcome{Scenario: scenario, Converged: got.converged(), Duplicates: got.duplicates, Lost: got.lost,
			Converge: took.Seconds(), Note: fmt.Sprintf("seed %d: leader killed %s into the rollout with %d of %d clusters current; lease 6s; %d replica restarts so far",
				seed, killAfter.Round(time.Millisecond), before.current, len(f.clusters), len(exits))})
	}
}

// leading is the replica whose current process acquired the Lease (its log
// says so; a process that lost it exits and is replaced), or nil.
func leading(replicas []*supervisor) *supervisor {
	for _, r := range replicas {
		p := r.current()
		if done, _ := p.exited(); done {
			continue
		}
		if raw, err := os.ReadFile(p.log); err == nil && strings.Contains(string(raw), "Successfully acquired lease") {
			return r
		}
	}
	return nil
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
