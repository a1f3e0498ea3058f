package profiles_test

import (
	"context"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
	mgr  *manager.Manager
	// summaryRetries spaces the summary controller's retries (held for an
	// hour in the namespaces a test holds: cluster_return_test.go).
	summaryRetries = newHeldRetries()
)

// The managed clusters of this package, registered in namespace "fleet".
var managed = []string{"app-1", "app-2"}

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: append([]string{"mgmt"}, managed...), InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	var err error
	opts := managertest.Options(env)
	// Metric health checks are evaluated again every second here (30s by
	// default); the tests wait on status, never on this interval.
	opts.HealthMetricsInterval = time.Second
	// A gate's failed health Job runs again after 500ms here (10s by default).
	opts.HealthJobRetry = 500 * time.Millisecond
	opts.SummaryRateLimiter = summaryRetries
	// The pull-mode hub listens on a loopback port of its own
	// (pull_mode_cluster_test.go connects an agent to it).
	opts.PullMode = &pullmode.HubOptions{Address: "127.0.0.1:0"}
	if mgr, mgmt, err = managertest.Start(ctx, env, opts); err != nil {
		return err
	}
	return managertest.RegisterFleet(ctx, mgmt, env, "fleet", managed, nil)
}
