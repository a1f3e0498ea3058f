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
func Main(m *testing.M, opts Options, env **Env) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, err := Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*env = started
	defer started.Stop()

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
