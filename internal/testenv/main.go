package testenv

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// UnitTestPrefix starts the names of the tests that need no cluster in a package
// whose TestMain is Main: under -short only they run.
const UnitTestPrefix = "TestUnit"

// Main starts the clusters once for a test package, runs its tests and stops the
// clusters, also when a test fails or the run is interrupted. Use it from TestMain:
//
//	var env *testenv.Env
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "services"}}, &env)) }
//
// Each setup function runs after the clusters are up (e.g. to start a manager);
// its context is cancelled before the clusters stop.
//
// Under -short (the unit tier) Main starts no cluster and runs no setup: it runs
// only the package's tests named TestUnit…, which must not use env.
func Main(m *testing.M, opts Options, env **Env, setup ...func(context.Context, *Env) error) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		if err := runOnlyUnitTests(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			return 1
		}
		return m.Run()
	}
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

// runOnlyUnitTests sets the testing flags so that m.Run runs the TestUnit…
// tests alone: -test.run becomes ^TestUnit; when -run was given it stays, and
// -test.skip leaves out the other tests it matches.
func runOnlyUnitTests() error {
	run := flag.Lookup("test.run")
	if run == nil {
		return fmt.Errorf("no -test.run flag: Main runs from TestMain only")
	}
	if run.Value.String() == "" {
		return flag.Set("test.run", "^"+UnitTestPrefix)
	}
	skip := notUnitTest()
	if given := flag.Lookup("test.skip").Value.String(); given != "" {
		skip = "(?:" + given + ")|" + skip
	}
	return flag.Set("test.skip", skip)
}

// notUnitTest is a regular expression matching the names that do not start with
// UnitTestPrefix (Go's regular expressions have no negative look-ahead).
func notUnitTest() string {
	alternatives := make([]string, len(UnitTestPrefix))
	for i := range UnitTestPrefix {
		alternatives[i] = regexp.QuoteMeta(UnitTestPrefix[:i]) + "(?:[^" + UnitTestPrefix[i:i+1] + "]|$)"
	}
	return "^(?:" + strings.Join(alternatives, "|") + ")"
}
