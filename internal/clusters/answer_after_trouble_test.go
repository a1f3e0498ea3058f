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

// A cluster whose requests failed asks for a probe again as soon as one of its
// requests is answered (issue #22, findings 2 and 4): its state follows the
// manager's own requests coming back, not only the periodic probe retry. A
// probe's own requests ask for nothing: a failed probe does not cause another.
func TestAnsweredRequestAfterTroubleAsksForProbe(t *testing.T) {
	ctx := context.Background()
	const ns, name = "answered", "answered"
	if _, err := env.AddCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.RemoveCluster(context.Background(), name) })
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: ns, Name: name, Kubeconfig: env.Cluster(name).Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: ns, Name: name})
	})
	// A registry of the test's own: nothing else sends on its Troubles.
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	id := libv1beta1.SveltosClusterID(ns, name)
	conn, err := registry.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := conn.Client()
	if err != nil {
		t.Fatal(err)
	}
	list := func() error { return c.List(ctx, &corev1.ConfigMapList{}) }
	if err := list(); err != nil {
		t.Fatal(err)
	}
	asked := func(what string) {
		t.Helper()
		select {
		case ev := <-registry.Troubles():
			if ev.Object.GetNamespace() != ns || ev.Object.GetName() != name {
				t.Fatalf("%s: probe asked for %s/%s", what, ev.Object.GetNamespace(), ev.Object.GetName())
			}
		case <-time.After(time.Minute): // a bound on waiting, not a measurement
			t.Fatalf("%s: no probe asked for", what)
		}
	}
	nothingAsked := func(what string) {
		t.Helper()
		select {
		case <-registry.Troubles():
			t.Fatalf("%s: a probe was asked for", what)
		default:
		}
	}

	if err := env.StopCluster(name); err != nil {
		t.Fatal(err)
	}
	if err := list(); err == nil {
		t.Fatal("listing on a stopped API server succeeded")
	}
	asked("a failed request")
	if _, err := registry.Probe(ctx, id); err == nil {
		t.Fatal("probing a stopped API server succeeded")
	}
	nothingAsked("a failed probe")

	if err := env.RestartCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := list(); err != nil {
		t.Fatal(err)
	}
	asked("the first answered request after the trouble")
	if err := list(); err != nil {
		t.Fatal(err)
	}
	nothingAsked("a second answered request")
}
