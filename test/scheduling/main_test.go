// Package scheduling_test plays the Kalypso multi-cluster scheduling tutorial
// (seed 004) end to end on real API servers and real git: a control-plane and a
// platform GitOps repository on a Git server, Flux's source-controller and the
// manager (scheduler, profiles, registry) against the management cluster, and
// four member clusters — drone and large for dev and for stage. Assignments
// reach the clusters through generated profiles, compliance is read per
// environment, and a commit is promoted from dev to stage.
package scheduling_test

import (
	"context"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/config/crd"
	"github.com/tugboat-dev/tugboat/examples"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/gitserver"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client
	mgr  *manager.Manager
	git  *gitserver.Server
)

// members are the member clusters: name → cluster type, environment. They are
// registered in namespace fleet.
var members = map[string][2]string{
	"drone-dev":   {"drone", "dev"},
	"large-dev":   {"large", "dev"},
	"drone-stage": {"drone", "stage"},
	"large-stage": {"large", "stage"},
}

const fleetNamespace = "fleet"

func TestMain(m *testing.M) {
	names := []string{"mgmt", "drone-dev", "large-dev", "drone-stage", "large-stage"}
	os.Exit(testenv.Main(m, testenv.Options{Clusters: names, InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	var err error
	if git, err = testenv.StartGitOps(ctx, env); err != nil {
		return err
	}
	opts := managertest.Options(env)
	opts.Scheduler = true
	opts.ProbeInterval = time.Second
	opts.SchedulerPollInterval = time.Second
	if mgr, mgmt, err = managertest.Start(ctx, env, opts); err != nil {
		return err
	}
	memberCRDs, err := crd.Read(examples.KalypsoTutorial(), "member-crds/*.yaml")
	if err != nil {
		return err
	}
	for name, m := range members {
		if err := crd.Apply(ctx, env.Cluster(name).Config, memberCRDs); err != nil {
			return err
		}
		if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: fleetNamespace, Name: name,
			Kubeconfig: env.Cluster(name).Kubeconfig, Labels: map[string]string{
				v1alpha1.MemberClusterTypeLabel: m[0],
				v1alpha1.MemberEnvironmentLabel: m[1],
			}}); err != nil {
			return err
		}
	}
	return nil
}
