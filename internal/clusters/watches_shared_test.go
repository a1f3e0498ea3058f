package clusters_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
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

// Holders of one key share one informer, whichever Watcher they hold it
// through; a label selector makes another key, whose informer holds only the
// objects it selects. Every Watcher is told of the informer's events with its
// own holders; the informer stops when the last holder lets go.
func TestWatchesAreSharedPerClusterAndKind(t *testing.T) {
	ctx := context.Background()
	cluster := registerServices(t, "watches-shared")
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	triggers, drift := &watchRecorder{}, &watchRecorder{}
	tw := registry.Watches().NewWatcher("triggers", triggers.record)
	dw := registry.Watches().NewWatcher("drift", drift.record)
	configMaps := clusters.WatchKey{Cluster: cluster, GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap")}
	labelled := configMaps
	labelled.LabelSelector = "watches-test=shared"

	watchSynced(t, tw, configMaps, "a")
	watchSynced(t, tw, configMaps, "b")
	watchSynced(t, dw, configMaps, "drift")
	watchSynced(t, dw, labelled, "drift")
	if got, want := registry.Watches().Keys(), []clusters.WatchKey{configMaps, labelled}; !reflect.DeepEqual(got, want) {
		t.Fatalf("informers %v, want %v", got, want)
	}
	if got, want := tw.Held(), map[clusters.WatchKey][]string{configMaps: {"a", "b"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("triggers hold %v, want %v", got, want)
	}

	services := servicesClient(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "watches-shared", Labels: map[string]string{"watches-test": "shared"}}}
	if err := services.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	triggers.wait(t, clusters.WatchAdded, configMaps, []string{"a", "b"}, cm.Name)
	drift.wait(t, clusters.WatchAdded, configMaps, []string{"drift"}, cm.Name)
	drift.wait(t, clusters.WatchAdded, labelled, []string{"drift"}, cm.Name)
	cm.Data = map[string]string{"changed": "yes"}
	if err := services.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	drift.wait(t, clusters.WatchUpdated, labelled, []string{"drift"}, cm.Name)

	// The labelled informer holds only what its selector selects.
	items, err := dw.List(labelled, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].GetName() != cm.Name || items[0].GetResourceVersion() != cm.ResourceVersion {
		t.Fatalf("labelled informer lists %d objects, want %s at %s", len(items), cm.Name, cm.ResourceVersion)
	}
	if err := services.Delete(ctx, cm); err != nil {
		t.Fatal(err)
	}
	triggers.wait(t, clusters.WatchDeleted, configMaps, []string{"a", "b"}, cm.Name)

	tw.Release("a", nil)
	tw.Release("b", map[clusters.WatchKey]bool{configMaps: true})
	if got, want := tw.Held(), map[clusters.WatchKey][]string{configMaps: {"b"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after releasing a: triggers hold %v, want %v", got, want)
	}
	tw.Release("b", nil)
	if got, want := registry.Watches().Keys(), []clusters.WatchKey{configMaps, labelled}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the triggers let go: informers %v, want %v (drift still holds them)", got, want)
	}
	dw.Release("drift", nil)
	if got := registry.Watches().Keys(); len(got) != 0 {
		t.Fatalf("after every holder let go: informers %v", got)
	}
	if _, err := tw.List(configMaps, ""); err == nil {
		t.Error("List of a key nobody holds succeeded")
	}
}

// registerServices registers the services test cluster in namespace and waits until it is ready.
func registerServices(t *testing.T, namespace string) libv1beta1.ClusterID {
	t.Helper()
	ref := libv1beta1.SveltosClusterID(namespace, "services")
	if _, err := clusters.Register(context.Background(), mgmt, clusters.Registration{Namespace: ref.Namespace, Name: ref.Name, Kubeconfig: env.Cluster("services").Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ref.Namespace, ref.Name, "ready", isReady)
	return ref
}

// servicesClient is a direct client of the services test cluster.
func servicesClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster("services").Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// watchSynced makes holder hold key and waits until its informer has synced.
func watchSynced(t *testing.T, w *clusters.Watcher, key clusters.WatchKey, holder string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("%s held by %s and synced", key, holder), func() error {
		synced, err := w.Watch(context.Background(), key, holder)
		if err != nil || synced {
			return err
		}
		return fmt.Errorf("not synced yet")
	})
}

// watchRecorder records what a Watcher's handler is told.
type watchRecorder struct {
	mu     sync.Mutex
	events []clusters.WatchEvent
}

func (r *watchRecorder) record(ev clusters.WatchEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// wait waits until an event of type typ about key, with exactly holders (nil:
// any) and (unless empty) about the object named name, was recorded.
func (r *watchRecorder) wait(t *testing.T, typ clusters.WatchEventType, key clusters.WatchKey, holders []string, name string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("%s %s %s to %v", typ, key, name, holders), func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if slices.ContainsFunc(r.events, func(ev clusters.WatchEvent) bool {
			return ev.Type == typ && ev.Key == key && (holders == nil || slices.Equal(ev.Holders, holders)) &&
				(name == "" || ev.Object != nil && ev.Object.GetName() == name)
		}) {
			return nil
		}
		return fmt.Errorf("%d events recorded, none matches", len(r.events))
	})
}
