package clusters_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A cluster that answers again after failed probes has its watches started
// afresh: their holders are told WatchDisconnected and, watching again, get a
// new informer that lists at once — not the old one, which waits out the
// backoff it built up retrying through the outage (issue #22, finding 4: a
// cluster back after five minutes got its objects 46 s later).
func TestReturningClusterIsWatchedAfresh(t *testing.T) {
	ctx := context.Background()
	const name = "returning"
	if _, err := env.AddCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.RemoveCluster(context.Background(), name) })
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: name, Name: name, Kubeconfig: env.Cluster(name).Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: name, Name: name})
	})
	waitFor(t, name, name, "ready", func(sc *libv1beta1.SveltosCluster) error {
		if !sc.Status.Ready {
			return fmt.Errorf("not ready")
		}
		return nil
	})

	rec := &watchRecorder{}
	w := mgr.Registry.Watches().NewWatcher("test-rewatch", rec.record)
	key := clusters.WatchKey{Cluster: libv1beta1.SveltosClusterID(name, name), GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap")}
	watchSynced(t, w, key, "a")
	t.Cleanup(func() { w.Release("a", nil) })

	if err := env.StopCluster(name); err != nil {
		t.Fatal(err)
	}
	waitFor(t, name, name, "a failed probe", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Status.ConnectionFailures == 0 {
			return fmt.Errorf("no failed probe yet")
		}
		return nil
	})
	if err := env.RestartCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, clusters.WatchDisconnected, key, []string{"a"}, "")

	// Watching again gives a new informer that sees what is in the cluster now.
	c, err := client.New(env.Cluster(name).Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "after-return"}}
	if err := c.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	watchSynced(t, w, key, "a")
	rec.wait(t, clusters.WatchAdded, key, []string{"a"}, "after-return")
	testenv.Eventually(t, "the cluster ready again", func() error {
		sc := getCluster(t, name, name)
		if !sc.Status.Ready || sc.Status.ConnectionFailures != 0 {
			return fmt.Errorf("ready %v, failures %d", sc.Status.Ready, sc.Status.ConnectionFailures)
		}
		return nil
	})
}
