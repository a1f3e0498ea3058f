package chaos_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The manager killed with SIGKILL at a random point of a rollout (one run per
// seed: the profile's content changes, the manager dies somewhere in the
// rollout, a new one starts): the fleet converges, every object exists exactly
// once with the new content, no ClusterSummary is duplicated or orphaned.
// Leader election is off here (TestLeaderKilledMidRollout covers it), so the
// restarted manager starts at once.
func TestManagerKilledMidRollout(t *testing.T) {
	const scenario = "manager SIGKILL mid-rollout"
	sc := newScene(t)
	mgr := sc.startManager("manager", managerFlags{})
	f := registerFleet(t, "kill", s.size.clusters, managed...)
	const profile = "chaos-kill"
	check, window := firstRollout(t, f, profile)
	t.Logf("an undisturbed rollout to %d clusters × %d objects took %s", len(f.clusters), s.size.objects, window.Round(time.Millisecond))

	for _, seed := range s.size.seeds {
		rng, version, killAfter := rolloutToKill(t, profile, seed, 22, window)
		mgr.kill()
		before, _ := f.check(context.Background(), profile, version, f.clusters)
		writesAtKill, err := managedWrites(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		restartAfter := time.Duration(rng.Int64N(int64(2 * time.Second)))
		time.Sleep(restartAfter)
		mgr = sc.startManager(fmt.Sprintf("manager-seed-%d", seed), managerFlags{})
		restarted := time.Now()
		got, took := converge(t, "after the kill of seed "+version, restarted, check(version))
		// What the restarted manager wrote to the managed clusters, beside what
		// was left to do: the objects not yet at the new content when it died.
		// Measured and reported, not asserted: a cluster whose objects were
		// applied but whose summary was not yet recorded is applied again.
		writesAfter, err := managedWrites(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.results.record(t, outcome{Scenario: scenario, Converged: got.converged(), Duplicates: got.duplicates, Lost: got.lost,
			Converge: took.Seconds(), Note: fmt.Sprintf("seed %d: killed %s into the rollout with %d of %d clusters current, restarted %s later; "+
				"%d writes to the managed clusters after the restart for %d objects not yet current",
				seed, killAfter.Round(time.Millisecond), before.current, len(f.clusters), restartAfter.Round(time.Millisecond),
				writesAfter-writesAtKill, before.lost)})
	}
}
