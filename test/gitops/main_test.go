// Package gitops_test checks profiles whose content comes from Git through Flux's
// source API: a real Git server on loopback, Flux's real source-controller
// against the management cluster, the manager, and two managed clusters.
package gitops_test

import (
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/gitserver"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client
	git  *gitserver.Server
)

// The managed clusters, registered in namespace "fleet" with env=prod.
var managed = []string{"prod-1", "prod-2"}

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: append([]string{"mgmt"}, managed...), InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	var err error
	if git, err = testenv.StartGitOps(ctx, env); err != nil {
		return err
	}
	if _, mgmt, err = managertest.Start(ctx, env, managertest.Options(env)); err != nil {
		return err
	}
	return managertest.RegisterFleet(ctx, mgmt, env, "fleet", managed, func(string) map[string]string { return map[string]string{"env": "prod"} })
}
