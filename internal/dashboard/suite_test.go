package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/dashboard"
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
			for deadline := time.Now().Add(30 * time.Second); mgr.Dashboard.Addr() == nil; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					return fmt.Errorf("the dashboard did not start")
				}
			}
			baseURL = "http://" + mgr.Dashboard.Addr().String()
			// No token Secret existed: the dashboard made one with a random token.
			secret := &corev1.Secret{}
			key := types.NamespacedName{Namespace: opts.Namespace, Name: dashboard.DefaultTokenSecretName}
			if err := c.Get(ctx, key, secret); err != nil {
				return fmt.Errorf("the dashboard's token Secret: %w", err)
			}
			if token = string(secret.Data[dashboard.TokenKey]); len(token) < 32 {
				return fmt.Errorf("the dashboard's token %q is too short", token)
			}
			return nil
		}))
}
