package pullmode_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// An agent with an authorized token connects to the hub, and a client built
// from Hub.RESTConfig lists, writes and watches in the managed ("edge") API
// server through it, although the management cluster holds no kubeconfig of
// that cluster.
func TestAgentCarriesRequests(t *testing.T) {
	ctx := context.Background()
	token := registerPullCluster(t, "carry", "edge-1", true)
	if err := testenv.ClusterClient(t, env, "mgmt").Get(ctx, clusterKey("carry", "edge-1"+libv1beta1.KubeconfigSecretSuffix), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the kubeconfig Secret of a pull-mode cluster: want none, got %v", err)
	}
	startAgent(t, "carry", "edge-1", token)
	id := libv1beta1.SveltosClusterID("carry", "edge-1")
	testenv.Eventually(t, "the agent connects", func() error {
		if !hub.Connected(id) {
			return fmt.Errorf("not connected")
		}
		return nil
	})
	cs, err := kubernetes.NewForConfig(hub.RESTConfig(id))
	if err != nil {
		t.Fatal(err)
	}
	// List, then watch from the list's version (as an informer does), so
	// that the write below shows on a stream carried by the agent.
	list, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing through the agent: %v", err)
	}
	w, err := cs.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, FieldSelector: "metadata.name=through-the-agent"})
	if err != nil {
		t.Fatalf("watching through the agent: %v", err)
	}
	defer w.Stop()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "through-the-agent", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("writing through the agent: %v", err)
	}
	t.Cleanup(func() {
		_ = testenv.ClusterClient(t, env, "edge").Delete(context.Background(), cm)
	})
	ev := <-w.ResultChan()
	if ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Name != cm.Name {
		t.Fatalf("watch through the agent: got %s %+v, want ADDED ConfigMap %s", ev.Type, ev.Object, cm.Name)
	}
	// The write landed in the managed cluster itself.
	got := &corev1.ConfigMap{}
	if err := testenv.ClusterClient(t, env, "edge").Get(ctx, clusterKey("default", cm.Name), got); err != nil || got.Data["k"] != "v" {
		t.Fatalf("the ConfigMap in the edge cluster: %v %v", got.Data, err)
	}
	list, err = cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing through the agent: %v", err)
	}
	found := false
	for _, item := range list.Items {
		found = found || item.Name == cm.Name
	}
	if !found {
		t.Fatalf("listing through the agent: %s missing from %d ConfigMaps", cm.Name, len(list.Items))
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("reading /version through the agent: %v", err)
	}
}
