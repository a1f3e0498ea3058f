package clusters_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct (uncached) admin client of the management cluster
	mgr  *manager.Manager
	// clock is the cluster controller's: tests of active windows and token
	// renewals step it instead of waiting.
	clock = clocktesting.NewFakeClock(time.Now())
	// execPlugin is the stand-in for "aws eks get-token" the manager runs for
	// workloadIdentity with provider AWS (see writeExecPlugin).
	execPlugin string
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "services", "workload", "ephemeral"}, InstallCRDs: true}, &env, runManager))
}

// runManager starts the Tugboat manager against the management cluster for the whole package.
func runManager(ctx context.Context, env *testenv.Env) error {
	opts := managertest.Options(env)
	opts.ProbeInterval = time.Second // so that the periodic probe shows within a test
	opts.Clock = clock
	execPlugin = filepath.Join(env.Dir(), "exec-plugin", "aws")
	if err := writeExecPlugin(execPlugin); err != nil {
		return err
	}
	opts.WorkloadIdentityCommands = clusters.WorkloadIdentityCommands{AWS: execPlugin}
	var err error
	mgr, mgmt, err = managertest.Start(ctx, env, opts)
	return err
}

// getCluster reads a SveltosCluster from the API server.
func getCluster(t *testing.T, namespace, name string) *libv1beta1.SveltosCluster {
	t.Helper()
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, sc); err != nil {
		t.Fatalf("reading SveltosCluster %s/%s: %v", namespace, name, err)
	}
	return sc
}

// waitFor polls a SveltosCluster until check accepts it.
func waitFor(t *testing.T, namespace, name, what string, check func(*libv1beta1.SveltosCluster) error) *libv1beta1.SveltosCluster {
	t.Helper()
	var sc *libv1beta1.SveltosCluster
	testenv.Eventually(t, fmt.Sprintf("%s/%s %s", namespace, name, what), func() error {
		sc = &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, sc); err != nil {
			return err
		}
		return check(sc)
	})
	return sc
}

func isReady(sc *libv1beta1.SveltosCluster) error {
	if !sc.Status.Ready || sc.Status.ConnectionStatus != libv1beta1.ConnectionHealthy {
		return fmt.Errorf("ready=%v connection=%q failure=%v", sc.Status.Ready, sc.Status.ConnectionStatus, deref(sc.Status.FailureMessage))
	}
	return nil
}

func isDown(sc *libv1beta1.SveltosCluster) error {
	if sc.Status.Ready || sc.Status.ConnectionStatus != libv1beta1.ConnectionDown {
		return fmt.Errorf("ready=%v connection=%q", sc.Status.Ready, sc.Status.ConnectionStatus)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// updateCluster changes a SveltosCluster, retrying when the controller wrote it in between.
func updateCluster(t *testing.T, namespace, name string, change func(*libv1beta1.SveltosCluster)) {
	t.Helper()
	testenv.Update(t, mgmt, types.NamespacedName{Namespace: namespace, Name: name}, &libv1beta1.SveltosCluster{}, change)
}

var errNotYet = errors.New("not yet")

// clientFor is a direct admin client of one of the test clusters.
func clientFor(t *testing.T, cluster string) client.Client {
	t.Helper()
	return testenv.ClusterClient(t, env, cluster)
}

// waitForEvent waits for an Event about the SveltosCluster with the reason and
// a note containing text.
func waitForEvent(t *testing.T, namespace, name, reason, text string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("a %s Event on SveltosCluster %s/%s", reason, namespace, name), func() error {
		list := &eventsv1.EventList{}
		if err := mgmt.List(context.Background(), list, client.InNamespace(namespace)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == reason && e.Regarding.Kind == libv1beta1.SveltosClusterKind && e.Regarding.Name == name && strings.Contains(e.Note, text) {
				return nil
			}
		}
		return fmt.Errorf("%d events, none %s containing %q", len(list.Items), reason, text)
	})
}

// registerWithSpec creates a SveltosCluster with spec (before its kubeconfig
// Secret exists, so that nothing is probed without the spec), then registers
// the test cluster's kubeconfig for it.
func registerWithSpec(t *testing.T, namespace, name, cluster string, spec libv1beta1.SveltosClusterSpec) {
	t.Helper()
	ctx := context.Background()
	if err := clusters.EnsureNamespace(ctx, mgmt, namespace); err != nil {
		t.Fatal(err)
	}
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: spec}
	if err := mgmt.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: namespace, Name: name}) })
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: namespace, Name: name, Kubeconfig: env.Cluster(cluster).Kubeconfig}); err != nil {
		t.Fatal(err)
	}
}
