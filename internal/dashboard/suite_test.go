package dashboard_test

import (
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/dashboard/browsertest"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
	// baseURL is the dashboard the test manager serves, from its cache.
	baseURL string
	// token logs in: the dashboard created it in its token Secret.
	token string
)

// The tests run the real manager, its dashboard on a loopback port, against
// real API servers: pages show what the controllers wrote, read from the
// manager's cache. Under -short only the TestUnit… tests (and benchmarks) run.
func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "app"}, InstallCRDs: true}, &env,
		func(ctx context.Context, env *testenv.Env) error {
			opts := managertest.Options(env)
			opts.Dashboard = &dashboard.Options{Address: "127.0.0.1:0", PageSize: 20}
			mgr, c, err := managertest.Start(ctx, env, opts)
			if err != nil {
				return err
			}
			mgmt = c
			baseURL, token, err = browsertest.Served(ctx, mgr.Dashboard, c, opts.Namespace)
			if err != nil {
				return err
			}
			return nil
		}))
}
