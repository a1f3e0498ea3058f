package explain_test

import (
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
)

// The behaviour tests run the real manager against real API servers: the
// explanations are read from what the controllers actually wrote. Under
// -short only the TestUnit… tests of package explain run.
func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "app"}, InstallCRDs: true}, &env,
		func(ctx context.Context, env *testenv.Env) error {
			var err error
			_, mgmt, err = managertest.Start(ctx, env, managertest.Options(env))
			return err
		}))
}
