package clusters_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// A watch that cannot reach its cluster any more (the API server went away) is
// reported on Registry.Troubles — the watch itself retries quietly, so the
// connection's transport reports it — and the cluster controller probes the
// cluster then, instead of at its next periodic probe.
func TestFailedWatchIsReportedAsTrouble(t *testing.T) {
	ctx := context.Background()
	const name = "trouble"
	if _, err := env.AddCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.RemoveCluster(context.Background(), name) })
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "trouble", Name: name, Kubeconfig: env.Cluster(name).Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: "trouble", Name: name})
	})
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	rec := &watchRecorder{}
	w := registry.Watches().NewWatcher("test", rec.record)
	key := clusters.WatchKey{Cluster: libv1beta1.SveltosClusterID("trouble", name), GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap")}
	watchSynced(t, w, key, "a")
	t.Cleanup(func() { w.Release("a", nil) })

	if err := env.StopCluster(name); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-registry.Troubles():
		if ev.Object.GetNamespace() != "trouble" || ev.Object.GetName() != name {
			t.Fatalf("trouble reported for %s/%s", ev.Object.GetNamespace(), ev.Object.GetName())
		}
	case <-time.After(2 * time.Minute): // a bound on waiting, not a measurement
		t.Fatal("no trouble reported after the API server stopped")
	}
}
