package clusters_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// When the registry closes a connection — the cluster forgotten, its
// kubeconfig changed — it says so to its subscribers; the informers on that
// connection stop and their holders are told (WatchDisconnected) at once, so
// they can watch again: on the new connection, which reaches the new server.
func TestWatchesTellHoldersWhenConnectionCloses(t *testing.T) {
	ctx := context.Background()
	cluster := registerServices(t, "watches-disconnect")
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	var mu sync.Mutex
	var connections []clusters.ConnectionEvent
	registry.Subscribe(func(ev clusters.ConnectionEvent) {
		mu.Lock()
		defer mu.Unlock()
		connections = append(connections, ev)
	})
	rec := &watchRecorder{}
	w := registry.Watches().NewWatcher("test", rec.record)
	key := clusters.WatchKey{Cluster: cluster, GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap")}
	watchSynced(t, w, key, "a")
	watchSynced(t, w, key, "b")
	rec.wait(t, clusters.WatchSynced, key, nil, "")

	// Forgotten: the holders are told before Forget returns.
	first, err := registry.Get(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	registry.Forget(cluster)
	rec.wait(t, clusters.WatchDisconnected, key, []string{"a", "b"}, "")
	if held := w.Held(); len(held) != 0 {
		t.Fatalf("still held after the connection closed: %v", held)
	}
	mu.Lock()
	want := []clusters.ConnectionEvent{{Cluster: cluster, Connection: first}, {Cluster: cluster, Connection: first, Closed: true}}
	if !reflect.DeepEqual(connections, want) {
		t.Errorf("connection events %+v, want opened then closed", connections)
	}
	mu.Unlock()

	// Watching again connects again.
	watchSynced(t, w, key, "a")
	if got, want := w.Held(), map[clusters.WatchKey][]string{key: {"a"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after watching again: %v, want %v", got, want)
	}

	// The kubeconfig now points at the workload server: the next Watch rebuilds
	// the connection; the holders of the old one are told, the new informer
	// lists the new server's objects.
	workload, err := client.New(env.Cluster("workload").Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	marker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "watches-disconnect-workload"}}
	if err := workload.Create(ctx, marker); err != nil {
		t.Fatal(err)
	}
	setKubeconfig(t, cluster.Namespace, cluster.Name+libv1beta1.KubeconfigSecretSuffix, env.Cluster("workload").Kubeconfig)
	watchSynced(t, w, key, "b")
	rec.wait(t, clusters.WatchDisconnected, key, []string{"a"}, "")
	if got, want := w.Held(), map[clusters.WatchKey][]string{key: {"b"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the kubeconfig changed: %v, want %v", got, want)
	}
	testenv.Eventually(t, "the new informer lists the workload server's ConfigMap", func() error {
		items, err := w.List(key, "default")
		if err != nil {
			return err
		}
		for _, item := range items {
			if item.GetName() == marker.Name {
				return nil
			}
		}
		return fmt.Errorf("%d ConfigMaps, not %s", len(items), marker.Name)
	})
	w.Release("b", nil)
}
