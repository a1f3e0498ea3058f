package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client
)

// runAsTug makes the test binary run as tug itself (the arguments after the
// program's name): tests that need tug as a process of its own — to send it
// a signal — start this binary again with it set.
const runAsTug = "TUGBOAT_TEST_RUN_AS_TUG"

func TestMain(m *testing.M) {
	if os.Getenv(runAsTug) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "services"}, InstallCRDs: true}, &env,
		func(context.Context, *testenv.Env) error {
			var err error
			mgmt, err = client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()})
			return err
		}))
}

// tug runs the command line in-process against the management cluster and
// returns its output and error.
func tug(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}
