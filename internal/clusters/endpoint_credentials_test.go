package clusters_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Registrations of one API server with different credentials — the admin's
// client certificate, a ServiceAccount token with no permissions, the admin
// impersonating a user with no permissions — are three endpoints, each with
// informers of its own: the less privileged registrations never see through
// the admin's informer (theirs cannot list, and hold nothing).
func TestDifferentCredentialsDoNotShareAnEndpoint(t *testing.T) {
	ctx := context.Background()
	const ns = "endpoint-credentials"
	admin := env.Cluster("services").Kubeconfig
	token := tokenKubeconfig(t, "services", serviceAccountToken(t, "services", "endpoint-credentials", "limited"))
	impersonating, err := clientcmd.Load(admin)
	if err != nil {
		t.Fatal(err)
	}
	impersonating.AuthInfos[impersonating.Contexts[impersonating.CurrentContext].AuthInfo].Impersonate = "nobody"
	impersonated, err := clientcmd.Write(*impersonating)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfigs := map[string][]byte{"admin": admin, "token": token, "impersonated": impersonated}
	for name, kubeconfig := range kubeconfigs {
		if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: ns, Name: name, Kubeconfig: kubeconfig}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: ns, Name: name})
		})
	}
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	endpoints := map[*clusters.Endpoint]string{}
	for name := range kubeconfigs {
		conn, err := registry.Get(ctx, libv1beta1.SveltosClusterID(ns, name))
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := endpoints[conn.Endpoint()]; ok {
			t.Fatalf("registrations %s and %s share endpoint %s", other, name, conn.Endpoint().ID())
		}
		endpoints[conn.Endpoint()] = name
	}
	if n := registry.EndpointCount(); n != 3 {
		t.Fatalf("%d endpoints for three sets of credentials", n)
	}

	services := servicesClient(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "endpoint-credentials", Labels: map[string]string{"endpoint-test": "credentials"}}}
	if err := services.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = services.Delete(context.Background(), cm) })
	w := registry.Watches().NewWatcher("test", (&watchRecorder{}).record)
	t.Cleanup(func() { w.Release("h", nil) })
	key := func(name string) clusters.WatchKey {
		return clusters.WatchKey{Cluster: libv1beta1.SveltosClusterID(ns, name), GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap"), LabelSelector: "endpoint-test=credentials"}
	}
	watchSynced(t, w, key("admin"), "h")
	testenv.Eventually(t, "the admin's informer holds the ConfigMap", func() error {
		items, err := w.List(key("admin"), "default")
		if err != nil {
			return err
		}
		if len(items) != 1 {
			return fmt.Errorf("%d ConfigMaps", len(items))
		}
		return nil
	})
	for _, name := range []string{"token", "impersonated"} {
		if _, err := w.Watch(ctx, key(name), "h"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if n := registry.Watches().Informers(); n != 3 {
		t.Fatalf("%d informers for one kind on three endpoints", n)
	}
	for _, name := range []string{"token", "impersonated"} {
		items, err := w.List(key(name), "default")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(items) != 0 {
			t.Fatalf("registration %s, allowed nothing, sees %d ConfigMaps", name, len(items))
		}
	}
}
