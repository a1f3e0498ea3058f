package clusters_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Two registrations of one API server with the same kubeconfig share one
// endpoint: one REST mapper, one informer per kind and selector. The second
// registration's watch sends no request at all, and the informer's events
// reach the holders of both, each under its own registration's key.
// Forgetting one registration leaves the other's watch running (no new
// watch request); a registration whose kubeconfig changes moves to another
// endpoint while the other keeps its informer; the endpoint is freed with
// its last registration.
func TestRegistrationsOfOneServerShareOneInformer(t *testing.T) {
	ctx := context.Background()
	const ns = "endpoint-shared"
	a, b := libv1beta1.SveltosClusterID(ns, "a"), libv1beta1.SveltosClusterID(ns, "b")
	for _, id := range []libv1beta1.ClusterID{a, b} {
		if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: id.Namespace, Name: id.Name, Kubeconfig: env.Cluster("services").Kubeconfig}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: id.Namespace, Name: id.Name})
		})
	}
	// A registry of the test's own: its requests are the test's alone.
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	connA, err := registry.Get(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	connB, err := registry.Get(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	shared := connA.Endpoint()
	if connA == connB || shared != connB.Endpoint() {
		t.Fatalf("registrations a and b: want two connections on one endpoint, got endpoints %s and %s", shared.ID(), connB.Endpoint().ID())
	}
	if got, want := shared.Registrations(), []libv1beta1.ClusterID{a, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("endpoint registrations %v, want %v", got, want)
	}

	rec := &watchRecorder{}
	w := registry.Watches().NewWatcher("test", rec.record)
	configMaps := corev1.SchemeGroupVersion.WithKind("ConfigMap")
	keyA := clusters.WatchKey{Cluster: a, GVK: configMaps, LabelSelector: "endpoint-test=shared"}
	keyB := keyA
	keyB.Cluster = b
	watchSynced(t, w, keyA, "x")
	afterA := shared.Requests()
	if afterA.Watches == 0 {
		t.Fatal("the informer's watch did not go through the endpoint's HTTP client")
	}
	watchSynced(t, w, keyB, "y")
	if got := shared.Requests(); got != afterA {
		t.Fatalf("b's watch sent requests: %+v after a's watch, %+v after b's", afterA, got)
	}
	if n := registry.Watches().Informers(); n != 1 {
		t.Fatalf("%d informers for one kind and selector on one endpoint", n)
	}

	services := servicesClient(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "endpoint-shared", Labels: map[string]string{"endpoint-test": "shared"}}}
	if err := services.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = services.Delete(context.Background(), cm) })
	rec.wait(t, clusters.WatchAdded, keyA, []string{"x"}, cm.Name)
	rec.wait(t, clusters.WatchAdded, keyB, []string{"y"}, cm.Name)

	// Forgetting a: its holders are told, b's watch runs on, with no new request.
	registry.Forget(a)
	rec.wait(t, clusters.WatchDisconnected, keyA, []string{"x"}, "")
	if got, want := w.Held(), map[clusters.WatchKey][]string{keyB: {"y"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after forgetting a: held %v, want %v", got, want)
	}
	cm.Data = map[string]string{"step": "after-forget"}
	if err := services.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitForUpdate(t, rec, keyB, cm.Name, "after-forget")
	if got := shared.Requests(); got.Watches != afterA.Watches {
		t.Fatalf("forgetting a restarted the shared watch: %d watch requests, %d before", got.Watches, afterA.Watches)
	}

	// a comes back, joins the running informer, then its kubeconfig points at
	// the workload server: a moves to another endpoint, b is not disturbed.
	watchSynced(t, w, keyA, "x")
	if n := registry.Watches().Informers(); n != 1 {
		t.Fatalf("a watching again: %d informers, want 1", n)
	}
	setKubeconfig(t, ns, a.Name+libv1beta1.KubeconfigSecretSuffix, env.Cluster("workload").Kubeconfig)
	testenv.Eventually(t, "a reconnected to the workload server", func() error {
		conn, err := registry.Get(ctx, a)
		if err != nil {
			return err
		}
		if conn.Endpoint() == shared || conn.Endpoint().Host() != env.Cluster("workload").URL {
			return fmt.Errorf("a is on endpoint %s", conn.Endpoint().ID())
		}
		return nil
	})
	watchSynced(t, w, keyA, "x")
	if n := registry.Watches().Informers(); n != 2 {
		t.Fatalf("a on the workload server, b on services: %d informers, want 2", n)
	}
	if got, want := shared.Registrations(), []libv1beta1.ClusterID{b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("services endpoint registrations %v, want %v", got, want)
	}
	if n := countEvents(rec, clusters.WatchDisconnected, keyB); n != 0 {
		t.Fatalf("b's holders were told Disconnected %d times", n)
	}
	cm.Data = map[string]string{"step": "after-move"}
	if err := services.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitForUpdate(t, rec, keyB, cm.Name, "after-move")
	if got := shared.Requests(); got.Watches != afterA.Watches {
		t.Fatalf("a's move restarted b's watch: %d watch requests, %d before", got.Watches, afterA.Watches)
	}

	w.Release("x", nil)
	w.Release("y", nil)
	if n := registry.Watches().Informers(); n != 0 {
		t.Fatalf("after every holder let go: %d informers", n)
	}
	registry.Forget(a)
	registry.Forget(b)
	if n := registry.EndpointCount(); n != 0 {
		t.Fatalf("after forgetting every registration: %d endpoints", n)
	}
}

// waitForUpdate waits for an Updated event about key whose ConfigMap has data step=step.
func waitForUpdate(t *testing.T, rec *watchRecorder, key clusters.WatchKey, name, step string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("%s: %s updated to step %s", key, name, step), func() error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, ev := range rec.events {
			if ev.Type == clusters.WatchUpdated && ev.Key == key && ev.Object.GetName() == name {
				if v, _, _ := unstructured.NestedString(ev.Object.Object, "data", "step"); v == step {
					return nil
				}
			}
		}
		return errNotYet
	})
}

// countEvents counts the recorded events of type typ about key.
func countEvents(rec *watchRecorder, typ clusters.WatchEventType, key clusters.WatchKey) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, ev := range rec.events {
		if ev.Type == typ && ev.Key == key {
			n++
		}
	}
	return n
}
