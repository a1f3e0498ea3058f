package testenv

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// Main starts the clusters once for a test package, runs its tests and stops the
// clusters, also when a test fails or the run is interrupted. Use it from TestMain:
//
//	var env *testenv.Env
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "services"}}, &env)) }
//
// Each setup function runs after the clusters are up (e.g. to start a manager);
// its context is cancelled before the clusters stop.
func Main(m *testing.M, opts Options, env **Env, setup ...func(context.Context, *Env) error) int {
	started, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*env = started
	defer started.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, s := range setup {
		if err := s(ctx, started); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: setup:", err)
			return 1
		}
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		if _, ok := <-signals; ok {
			started.Stop()
			os.Exit(130)
		}
	}()
	return m.Run()
}
