// Package managertest starts a Tugboat manager against the management cluster of
// a test environment, the way the test packages of the controllers need it: no
// leader election, no metrics or probe ports, logs quiet unless
// TUGBOAT_TEST_VERBOSE is set.
package managertest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
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
	return start(ctx, env, env.Management().Config, opts)
}

// LogTo makes every logger of the process log everything up to
// support.MostVerbose (as levels allows) into log, and to stderr too when
// TUGBOAT_TEST_VERBOSE is set. Call it first in TestMain, before anything
// logs: controller-runtime drops the lines of a logger set more than 30
// seconds after the first use (starting API servers can take that long).
func LogTo(log io.Writer, levels *support.LogLevels) {
	if os.Getenv("TUGBOAT_TEST_VERBOSE") != "" {
		log = io.MultiWriter(log, os.Stderr)
	}
	base := zap.New(zap.UseDevMode(true), zap.WriteTo(log), zap.Level(zapcore.Level(-support.MostVerbose)))
	ctrl.SetLogger(support.NewLevelLogger(base, support.MostVerbose, levels))
}

// StartAs is Start with the manager reaching the management cluster through
// cfg (for example one impersonating the chart's ServiceAccount, to run under
// exactly its rights) and the logger left as set (LogTo); the returned client
// stays the admin's.
func StartAs(ctx context.Context, env *testenv.Env, cfg *rest.Config, opts manager.Options) (*manager.Manager, client.Client, error) {
	return start(ctx, env, cfg, opts)
}

func start(ctx context.Context, env *testenv.Env, cfg *rest.Config, opts manager.Options) (*manager.Manager, client.Client, error) {
	mgmt, err := client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return nil, nil, err
	}
	mgr, err := manager.New(ctx, cfg, opts)
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

// PullModeHubURL waits until the manager's pull-mode hub (Options.PullMode,
// e.g. on "127.0.0.1:0") listens and returns the URL agents connect to.
func PullModeHubURL(ctx context.Context, mgr *manager.Manager) (string, error) {
	if mgr.PullModeHub == nil {
		return "", fmt.Errorf("the manager has no pull-mode hub (Options.PullMode)")
	}
	for mgr.PullModeHub.Addr() == nil {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "https://" + mgr.PullModeHub.Addr().String(), nil
}
