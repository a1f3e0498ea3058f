package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// A managed API server stopped during a rollout and during a withdrawal (20 s
// in the short variant, 5 minutes in the long one):
//   - nothing is withdrawn from it or from the others because of it (its objects
//     keep their UIDs through the outage);
//   - its SveltosClusters say Down with the probe's message, and the summaries
//     for it say why they wait;
//   - the other API server's clusters get the new content and lose the deleted
//     profile's objects meanwhile;
//   - when it returns, what it missed is applied and the deleted profile's
//     objects are withdrawn from it.
//
// The withdrawal starts a minute before the server returns in the long
// variant: a deleted summary waits at most withdrawGrace (2 minutes) for an
// unreachable cluster and is then released without withdrawing, by rule (an
// Event WithdrawAbandoned says so); docs/reliability.md notes it.
func TestManagedAPIServerDown(t *testing.T) {
	const scenario = "managed API server down during rollout and withdrawal"
	const down = "api-2"
	ctx := context.Background()
	sc := newScene(t)
	sc.startManager("manager", managerFlags{})
	f := registerFleet(t, "down", max(4, s.size.outageFleet/2), managed...)
	if !s.size.long {
		// The short outage is 20 s: Down at the first failed probe (the watch
		// failures ask for it at once) rather than the third (10 s apart). The
		// long variant keeps the default threshold of 3.
		f.setFailureThreshold(t, 1)
	}
	const rolled, withdrawn = "chaos-down-rollout", "chaos-down-withdraw"
	createProfile(t, f, rolled, "v1", nil)
	createProfile(t, f, withdrawn, "v1", nil)
	_, _ = converge(t, "both profiles deployed", time.Now(), func(ctx context.Context) (tally, error) {
		return sum(f.check(ctx, rolled, "v1", f.clusters))(f.check(ctx, withdrawn, "v1", f.clusters))
	})
	before, err := uids(ctx, rolled, down)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.env.StopCluster(down); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Logf("%s: %s stopped", stopped.Format(time.RFC3339Nano), down)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = s.env.RestartCluster(context.Background(), down)
		}
	})
	setPolicy(t, rolled, "v2")
	withdrawAt := stopped
	if s.size.outage > 3*time.Minute {
		withdrawAt = stopped.Add(s.size.outage - time.Minute)
	}
	up := f.on("api-1")
	// During the outage: the reachable clusters follow; the stopped server's
	// clusters are Down and their summaries say why.
	waitFor(t, "the reachable clusters at v2", s.size.converge, func() error {
		// The stopped server's summaries stay (they wait for it): not duplicates here.
		got, err := f.check(ctx, rolled, "v2", up, "api-1")
		if err != nil || got.current != len(up) || got.lost > 0 {
			return fmt.Errorf("%v %v", got, err)
		}
		return nil
	})
	// (The outage lasts at least until this is seen.)
	waitFor(t, "the stopped server's clusters Down with a message", s.size.converge, func() error {
		return downWithMessage(ctx, f.on(down))
	})
	time.Sleep(time.Until(withdrawAt))
	deleteProfile(t, withdrawn)
	waitFor(t, "the deleted profile withdrawn from the reachable clusters", s.size.converge, func() error {
		n, err := countObjects(ctx, "api-1", withdrawn)
		if err != nil || n > 0 {
			return fmt.Errorf("%d objects left (%v)", n, err)
		}
		return nil
	})
	waitFor(t, "the stopped server's summaries say why they wait", s.size.converge, func() error {
		return summariesWaiting(ctx, f.on(down), rolled, withdrawn)
	})
	time.Sleep(time.Until(stopped.Add(s.size.outage)))

	if err := s.env.RestartCluster(ctx, down); err != nil {
		t.Fatal(err)
	}
	restarted = true
	back := time.Now()
	t.Logf("%s: %s ready again", back.Format(time.RFC3339Nano), down)
	got, took := converge(t, "after the API server's return", back, func(ctx context.Context) (tally, error) {
		return sum(f.check(ctx, rolled, "v2", f.clusters))(f.check(ctx, withdrawn, "", nil))
	})
	t.Logf("%s: converged, %.1f s after the return", time.Now().Format(time.RFC3339Nano), took.Seconds())
	after, err := uids(ctx, rolled, down)
	if err != nil {
		t.Fatal(err)
	}
	// An object deleted during the outage and deployed again on return was withdrawn because of it.
	gone := replaced(before, after)
	if gone > 0 {
		t.Errorf("%d objects of %s on %s were deleted or re-created across the outage", gone, rolled, down)
	}
	s.results.record(t, outcome{Scenario: scenario, Converged: got.converged(), Duplicates: got.duplicates, Lost: got.lost + gone,
		Converge: took.Seconds(), Note: fmt.Sprintf("%s down %s, %d of %d clusters on it", down, s.size.outage, len(f.on(down)), len(f.clusters))})
}

// downWithMessage checks that each cluster says Down (not ready) with a failure message.
func downWithMessage(ctx context.Context, clusters []fleetCluster) error {
	for _, c := range clusters {
		sc := &libv1beta1.SveltosCluster{}
		if err := s.mgmt.Get(ctx, client.ObjectKey{Namespace: c.name, Name: c.name}, sc); err != nil {
			return err
		}
		if sc.Status.Ready || sc.Status.ConnectionStatus != libv1beta1.ConnectionDown || sc.Status.FailureMessage == nil || *sc.Status.FailureMessage == "" {
			return fmt.Errorf("SveltosCluster %s: ready %t, %s, message %v", c.name, sc.Status.Ready, sc.Status.ConnectionStatus, sc.Status.FailureMessage)
		}
	}
	return nil
}

// summariesWaiting checks that the summaries of the profiles for these clusters
// say in status why they wait: the cluster is not ready, or the withdrawal
// cannot reach it.
func summariesWaiting(ctx context.Context, clusters []fleetCluster, profiles ...string) error {
	for _, c := range clusters {
		for _, p := range profiles {
			sum := &configv1beta1.ClusterSummary{}
			key := client.ObjectKey{Namespace: c.name, Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, p, c.name)}
			if err := s.mgmt.Get(ctx, key, sum); err != nil {
				return fmt.Errorf("summary %s: %w", key, err)
			}
			msg := ""
			if sum.Status.FailureMessage != nil {
				msg = *sum.Status.FailureMessage
			}
			if !strings.Contains(msg, "not ready") && !strings.Contains(msg, "withdrawing from cluster") {
				return fmt.Errorf("summary %s: failureMessage %q", key, msg)
			}
		}
	}
	return nil
}

// sum adds two checks' tallies: sum(check1)(check2).
func sum(a tally, errA error) func(tally, error) (tally, error) {
	return func(b tally, errB error) (tally, error) {
		if errA != nil {
			return a, errA
		}
		if errB != nil {
			return b, errB
		}
		return tally{lost: a.lost + b.lost, duplicates: a.duplicates + b.duplicates, pending: a.pending + b.pending,
			current: a.current + b.current, detail: append(a.detail, b.detail...)}, nil
	}
}
