// Package e2e runs the user journeys of the spec end to end: real API servers
// for the management cluster and the managed clusters, one Tugboat manager, the
// tutorial manifests applied as users apply them.
package e2e_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "services", "workload", "workload2"}, InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	var err error
	_, mgmt, err = managertest.Start(ctx, env, managertest.Options(env))
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
