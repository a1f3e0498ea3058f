// Package managertest starts a Tugboat manager against the management cluster of
// a test environment, the way the test packages of the controllers need it: no
// leader election, no metrics or probe ports, logs quiet unless
// TUGBOAT_TEST_VERBOSE is set.
package managertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/support"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// SetLogger sets controller-runtime's logger for tests: errors only, or up to
// V(1) with TUGBOAT_TEST_VERBOSE set.
func SetLogger() { setLogger(nil) }

// setLogger sets the logger with levels as its DebuggingConfiguration table
// (a fresh one when nil), as cmd/manager does. Only the first logger set in a
// process takes effect (controller-runtime's rule).
func setLogger(levels *support.LogLevels) {
	startup := -1
	if os.Getenv("TUGBOAT_TEST_VERBOSE") != "" {
		startup = 1
	}
	if levels == nil {
		levels = support.NewLogLevels()
	}
	base := zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapcore.Level(-support.MostVerbose)))
	ctrl.SetLogger(support.NewLevelLogger(base, startup, levels))
}

// Options returns the manager options for tests; change them before Start.
func Options(env *testenv.Env) manager.Options {
	opts := manager.DefaultOptions()
	opts.MetricsAddr, opts.ProbeAddr, opts.LeaderElection = "0", "0", false
	opts.HelmCacheDir = filepath.Join(env.Dir(), "helm")
	opts.TechsupportDir = filepath.Join(env.Dir(), "techsupport")
	opts.LogLevels = support.NewLogLevels()
	return opts
}

// Start runs a manager until ctx ends and returns it with a direct (uncached)
// client of the management cluster.
func Start(ctx context.Context, env *testenv.Env, opts manager.Options) (*manager.Manager, client.Client, error) {
	setLogger(opts.LogLevels)
	mgmt, err := client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return nil, nil, err
	}
	mgr, err := manager.New(ctx, env.Management().Config, opts)
	if err != nil {
		return nil, nil, err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return mgr, mgmt, nil
}
