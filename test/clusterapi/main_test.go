// Package clusterapi_test checks that Cluster API clusters join the fleet by
// themselves: no Cluster API controller runs here. The tests play Cluster API by
// creating the Cluster (its CRD comes from the sigs.k8s.io/cluster-api module,
// see hack/test-binaries.sh), its status (written through the status
// subresource) and the <name>-kubeconfig Secret pointing at one of the real
// test API servers.
package clusterapi_test

import (
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client
	mgr  *manager.Manager
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "prod", "stage"}, InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	// Cluster API's CRD goes in before the manager starts: the manager reads
	// Cluster API clusters when the management cluster serves them at start.
	if err := env.InstallClusterAPICRDs(ctx); err != nil {
		return err
	}
	var err error
	mgr, mgmt, err = managertest.Start(ctx, env, managertest.Options(env))
	return err
}
