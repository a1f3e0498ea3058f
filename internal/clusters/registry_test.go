package clusters_test

import (
	"context"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// Connections are built once and shared, rebuilt when the kubeconfig changes,
// and closed when the cluster is forgotten.
func TestRegistryConnectionLifecycle(t *testing.T) {
	ctx := context.Background()
	ref := libv1beta1.SveltosClusterID("lifecycle", "services")
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: ref.Namespace, Name: ref.Name, Kubeconfig: env.Cluster("services").Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ref.Namespace, ref.Name, "ready", isReady)
	reg := mgr.Registry

	first, err := reg.Get(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	again, err := reg.Get(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Fatal("the same kubeconfig gave two connections")
	}
	if _, err := first.Client(); err != nil {
		t.Fatal(err)
	}

	// Point the cluster at another API server: a new connection, the old one closed.
	setKubeconfig(t, ref.Namespace, ref.Name+libv1beta1.KubeconfigSecretSuffix, env.Cluster("workload").Kubeconfig)
	var rebuilt *clusters.Connection
	waitFor(t, ref.Namespace, ref.Name, "ready on the new server", func(sc *libv1beta1.SveltosCluster) error {
		var err error
		rebuilt, err = reg.Get(ctx, ref)
		if err != nil {
			return err
		}
		return isReady(sc)
	})
	if rebuilt == first || rebuilt.Config.Host != env.Cluster("workload").URL {
		t.Fatalf("connection not rebuilt for the new kubeconfig (host %s)", rebuilt.Config.Host)
	}
	if !first.Closed() {
		t.Error("the replaced connection is still open")
	}
	if _, err := first.Client(); err == nil {
		t.Error("a closed connection still hands out clients")
	}

	// Deleting the cluster closes its connection.
	if err := clusters.Deregister(ctx, mgmt, ref.Key()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "mgmt", "mgmt", "registry to forget the deleted cluster", func(*libv1beta1.SveltosCluster) error {
		if !rebuilt.Closed() {
			return errNotYet
		}
		return nil
	})
}
