// Package e2e runs the user journeys of the spec end to end: real API servers
// for the management cluster and the managed clusters, one Tugboat manager, the
// tutorial manifests applied as users apply them.
//
// The manager runs as the chart runs it: as the ServiceAccount
// projectsveltos/tugboat-manager with exactly the rules of config/rbac/role.yaml
// (the chart's ClusterRole and Role), plus the one grant the chart leaves to
// the platform team (values.yaml managementClusterAdmin: "grant narrower rights
// yourself"): writing the ConfigMaps and Secrets the tutorial deploys into the
// management cluster. Its log is kept at the most verbose level so that the
// tutorial test can look for secret values in it.
package e2e_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/dashboard/browsertest"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/support"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster (admin)
	// clusterNames are the test's API servers, the management cluster first.
	clusterNames = []string{"mgmt", "services", "workload", "workload2"}
	// managerLog holds every line the manager logged, at the most verbose level.
	managerLog = &testenv.LockedBuffer{}
	logLevels  = support.NewLogLevels()
	// dashboardURL is the manager's dashboard; dashboardToken logs in to it.
	dashboardURL, dashboardToken string
)

func TestMain(m *testing.M) {
	managertest.LogTo(managerLog, logLevels)
	os.Exit(testenv.Main(m, testenv.Options{Clusters: clusterNames, InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	admin, err := client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return err
	}
	if err := grantChartRights(ctx, admin); err != nil {
		return err
	}
	cfg := rest.CopyConfig(env.Management().Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: managerUser}
	opts := managertest.Options(env)
	opts.LogLevels = logLevels
	opts.Dashboard = &dashboard.Options{Address: "127.0.0.1:0"}
	mgr, c, err := managertest.StartAs(ctx, env, cfg, opts)
	if err != nil {
		return err
	}
	mgmt = c
	dashboardURL, dashboardToken, err = browsertest.Served(ctx, mgr.Dashboard, mgmt, opts.Namespace)
	return err
}

// clusterClient is a direct client of one of the test clusters.
func clusterClient(t *testing.T, name string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(name).Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setLabels sets (or, with an empty value, removes) labels of a SveltosCluster.
func setLabels(t *testing.T, cluster types.NamespacedName, labels map[string]string) {
	t.Helper()
	if err := clusters.SetLabels(context.Background(), mgmt, cluster, labels); err != nil {
		t.Fatal(err)
	}
}

// applyYAML creates every document of a manifest in the management cluster.
func applyYAML(t *testing.T, manifest []byte) {
	t.Helper()
	if err := testenv.CreateObjects(context.Background(), mgmt, manifest, false); err != nil {
		t.Fatal(err)
	}
}

func readFixture(t *testing.T, name string) []byte { return testenv.Fixture(t, name) }

func notFound(c client.Client, obj client.Object, key types.NamespacedName) error {
	if err := c.Get(context.Background(), key, obj); err == nil {
		return fmt.Errorf("%T %s still exists", obj, key)
	} else if client.IgnoreNotFound(err) != nil {
		return err
	}
	return nil
}
