package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// `tug version` prints its own version, the management cluster's and that of
// the manager running against it. (It starts a manager: kept in the last file of
// the package so that no other test here sees controllers at work.)
func TestVersionShowsCLIAndManager(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := managertest.Options(env)
	opts.ShardKey = "version-test" // touch no cluster: this test only needs the manager to start
	if _, _, err := managertest.Start(ctx, env, opts); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	testenv.Eventually(t, "tug version names the manager", func() error {
		out, err := tug(t, "version")
		if err != nil {
			return err
		}
		for _, want := range []string{"tug: dev", "Kubernetes v1.36.3", "manager: dev"} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		return nil
	})
}
