package manager_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zapcore"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/metrics"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	level := 2 // errors only
	if os.Getenv("TUGBOAT_TEST_VERBOSE") != "" {
		level = -1
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapcore.Level(level))))
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "workload"}, InstallCRDs: true}, &env))
}

const leaseNamespace, leaseName = "projectsveltos", "tugboat-manager"

// replica is one running manager of the pair.
type replica struct {
	name    string
	mgr     *manager.Manager
	cancel  context.CancelFunc
	stopped chan error
}

func startReplica(t *testing.T, name string) *replica {
	t.Helper()
	opts := manager.DefaultOptions()
	opts.LeaderElection = true
	opts.LeaderElectionNamespace = leaseNamespace
	// Short leases so that the test does not wait for the defaults; the takeover
	// itself comes from the leader releasing the Lease when its context ends.
	opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = 4*time.Second, 3*time.Second, 500*time.Millisecond
	return runManager(t, name, opts)
}

// runManager runs a manager with opts (metrics and probes off, clusters probed
// every second) until the test ends.
func runManager(t *testing.T, name string, opts manager.Options) *replica {
	t.Helper()
	opts.MetricsAddr, opts.ProbeAddr = "0", "0"
	opts.ProbeInterval = time.Second
	opts.SkipControllerNameValidation = true // several managers in one process
	opts.HelmCacheDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(ctx, env.Management().Config, opts)
	if err != nil {
		cancel()
		t.Fatalf("creating manager %s: %v", name, err)
	}
	r := &replica{name: name, mgr: mgr, cancel: cancel, stopped: make(chan error, 1)}
	go func() { r.stopped <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.stopped
	})
	return r
}

func elected(r *replica) bool {
	select {
	case <-r.mgr.Elected():
		return true
	default:
		return false
	}
}

func leaseHolder(ctx context.Context, c client.Client) (string, error) {
	lease := &coordinationv1.Lease{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: leaseNamespace, Name: leaseName}, lease); err != nil {
		return "", err
	}
	if lease.Spec.HolderIdentity == nil {
		return "", nil
	}
	return *lease.Spec.HolderIdentity, nil
}

func waitReady(t *testing.T, c client.Client, key types.NamespacedName) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("SveltosCluster %s ready", key), func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := c.Get(context.Background(), key, sc); err != nil {
			return err
		}
		if !sc.Status.Ready || sc.Status.ConnectionStatus != libv1beta1.ConnectionHealthy {
			return fmt.Errorf("ready=%v connection=%q", sc.Status.Ready, sc.Status.ConnectionStatus)
		}
		return nil
	})
}

// Two managers against one management cluster: one leads and reconciles, the
// other stands by doing nothing; when the leader stops, the other takes the
// Lease over and reconciles what is registered afterwards.
func TestLeaderElectionFailover(t *testing.T) {
	ctx := context.Background()
	c, err := client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	a, b := startReplica(t, "a"), startReplica(t, "b")

	var leader, standby *replica
	testenv.Eventually(t, "one manager elected", func() error {
		switch {
		case elected(a) && elected(b):
			t.Fatal("both managers are leaders")
		case elected(a):
			leader, standby = a, b
		case elected(b):
			leader, standby = b, a
		default:
			return errors.New("no leader yet")
		}
		return nil
	})
	var firstHolder string
	testenv.Eventually(t, "Lease held", func() error {
		var err error
		if firstHolder, err = leaseHolder(ctx, c); err == nil && firstHolder == "" {
			err = errors.New("no holder")
		}
		return err
	})
	t.Logf("leader %s holds the Lease as %s", leader.name, firstHolder)

	// The leader reconciles: a registered cluster becomes ready.
	before := types.NamespacedName{Namespace: "fleet", Name: "before"}
	if _, err := clusters.Register(ctx, c, clusters.Registration{Namespace: before.Namespace, Name: before.Name, Kubeconfig: env.Cluster("workload").Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.Deregister(context.Background(), c, before) })
	waitReady(t, c, before)
	testenv.Eventually(t, "leader connected to "+before.String(), func() error {
		for _, k := range leader.mgr.Registry.Known() {
			if k.Key() == before && !k.IsCAPI() {
				return nil
			}
		}
		return fmt.Errorf("leader's connections: %v", leader.mgr.Registry.Known())
	})
	// The probe result is exported as Tugboat's connection state metric.
	testenv.Eventually(t, "connection state metric of "+before.String(), func() error {
		if v := testutil.ToFloat64(leader.mgr.Metrics.ClusterConnection.WithLabelValues(before.Namespace, before.Name, metrics.StateHealthy)); v != 1 {
			return fmt.Errorf("%s{state=Healthy} = %v", metrics.ClusterConnectionName, v)
		}
		return nil
	})
	if elected(standby) {
		t.Fatal("the standby manager is elected too")
	}
	// No duplicate work: the standby has not probed (nor connected to) any cluster.
	if known := standby.mgr.Registry.Known(); len(known) != 0 {
		t.Errorf("standby manager connected to %v", known)
	}

	// Stop the leader: it releases the Lease and the standby takes over.
	leader.cancel()
	if err := <-leader.stopped; err != nil {
		t.Errorf("leader %s stopped with %v", leader.name, err)
	}
	leader.stopped <- nil // for the cleanup
	testenv.Eventually(t, "standby elected", func() error {
		if !elected(standby) {
			return errors.New("not elected yet")
		}
		return nil
	})
	testenv.Eventually(t, "Lease taken over", func() error {
		holder, err := leaseHolder(ctx, c)
		if err != nil {
			return err
		}
		if holder == "" || holder == firstHolder {
			return fmt.Errorf("holder %q", holder)
		}
		return nil
	})

	// The new leader reconciles: a cluster registered now becomes ready too.
	after := types.NamespacedName{Namespace: "fleet", Name: "after"}
	if _, err := clusters.Register(ctx, c, clusters.Registration{Namespace: after.Namespace, Name: after.Name, Kubeconfig: env.Cluster("workload").Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.Deregister(context.Background(), c, after) })
	waitReady(t, c, after)
	testenv.Eventually(t, "new leader connected to "+after.String(), func() error {
		for _, k := range standby.mgr.Registry.Known() {
			if k.Key() == after && !k.IsCAPI() {
				return nil
			}
		}
		return fmt.Errorf("new leader's connections: %v", standby.mgr.Registry.Known())
	})
}
