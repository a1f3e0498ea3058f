package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// The management cluster's etcd stopped mid-rollout and started again: the
// manager reconnects and the fleet converges. All the local API servers share
// that etcd, so the managed ones lose their storage too for the outage.
//
// Leader election is on, as in production: a leader that cannot renew its
// Lease for the renew deadline exits ("leader election lost") and relies on its
// supervisor. The test plays the supervisor (a Deployment's kubelet),
// restarting the manager whenever it exits, and reports how often it did.
func TestManagementEtcdRestart(t *testing.T) {
	managementOutage(t, "management etcd restarted", "etcd", s.env.StopEtcd, func(ctx context.Context) error {
		return s.env.RestartEtcd(ctx)
	})
}

// The management API server stopped mid-rollout and started again (same
// address, same data): the manager reconnects and the fleet converges; with
// leader election on, the test supervises the manager as above.
func TestManagementAPIServerRestart(t *testing.T) {
	mgmt := s.env.Management().Name
	managementOutage(t, "management API server restarted", "mgmtapi", func() error { return s.env.StopCluster(mgmt) },
		func(ctx context.Context) error { return s.env.RestartCluster(ctx, mgmt) })
}

// managementOutage rolls a new version out, stops a piece of the management
// cluster at once, starts it again after the outage and measures convergence.
func managementOutage(t *testing.T, scenario, name string, stop func() error, start func(context.Context) error) {
	longOnly(t)
	ctx := context.Background()
	if err := s.mgmt.Delete(ctx, &coordinationv1.Lease{ObjectMeta: objectMeta(leaseKey)}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	sc := newScene(t)
	sv := sc.supervise("manager", managerFlags{leaderElect: true})
	f := registerFleet(t, name, max(4, s.size.outageFleet/4), managed...)
	profile := "chaos-" + name
	check := func(version string) func(context.Context) (tally, error) {
		return func(ctx context.Context) (tally, error) { return f.check(ctx, profile, version, f.clusters) }
	}
	createProfile(t, f, profile, "v1", nil)
	if got, _ := converge(t, "first rollout", time.Now(), check("v1")); !got.converged() {
		t.FailNow()
	}
	outage := min(s.size.outage, time.Minute)
	setPolicy(t, profile, "v2")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	started := false
	t.Cleanup(func() {
		if !started {
			_ = start(context.Background())
		}
	})
	time.Sleep(outage)
	if err := start(ctx); err != nil {
		t.Fatal(err)
	}
	started = true
	back := time.Now()
	got, took := converge(t, "after the restart", back, check("v2"))
	why, restarts := sv.restartCount()
	t.Logf("the supervisor restarted the manager %d times; exits:\n%s", restarts, strings.Join(why, "\n"))
	s.results.record(t, outcome{Scenario: scenario, Converged: got.converged(), Duplicates: got.duplicates, Lost: got.lost,
		Converge: took.Seconds(), Note: fmt.Sprintf("down %s mid-rollout; the supervisor restarted the manager %d times", outage, restarts)})
}
