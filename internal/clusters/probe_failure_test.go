package clusters_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// Breaking the kubeconfig Secret turns the cluster Down at once, with a message
// naming the cause; fixing it brings the cluster back.
func TestBrokenKubeconfigGoesDownAndRecovers(t *testing.T) {
	ctx := context.Background()
	good := env.Cluster("services").Kubeconfig
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "broken", Name: "services", Kubeconfig: good}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "broken", "services", "ready", isReady)

	setKubeconfig(t, "broken", "services-sveltos-kubeconfig", []byte("this is not a kubeconfig"))
	sc := waitFor(t, "broken", "services", "down", isDown)
	msg := deref(sc.Status.FailureMessage)
	if !strings.Contains(msg, "broken/services-sveltos-kubeconfig") || !strings.Contains(msg, "invalid") {
		t.Errorf("failureMessage %q does not name the Secret and the cause", msg)
	}

	setKubeconfig(t, "broken", "services-sveltos-kubeconfig", good)
	sc = waitFor(t, "broken", "services", "ready again", isReady)
	if sc.Status.FailureMessage != nil || sc.Status.ConnectionFailures != 0 {
		t.Errorf("after recovery: failureMessage=%q failures=%d", deref(sc.Status.FailureMessage), sc.Status.ConnectionFailures)
	}
}

// A missing Secret is reported by name.
func TestMissingSecretIsReported(t *testing.T) {
	ctx := context.Background()
	if err := clusters.EnsureNamespace(ctx, mgmt, "nosecret"); err != nil {
		t.Fatal(err)
	}
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "nosecret", Name: "ghost"}}
	if err := mgmt.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	sc = waitFor(t, "nosecret", "ghost", "down", isDown)
	if msg := deref(sc.Status.FailureMessage); !strings.Contains(msg, "kubeconfig Secret nosecret/ghost-sveltos-kubeconfig not found") {
		t.Errorf("failureMessage %q", msg)
	}
}

// An unreachable API server is reported Down after consecutiveFailureThreshold
// failed probes, with the address in the message.
func TestUnreachableClusterGoesDown(t *testing.T) {
	ctx := context.Background()
	// A copy of the services kubeconfig pointing at a port where nothing listens.
	dead := strings.Replace(string(env.Cluster("services").Kubeconfig), env.Cluster("services").URL, "https://127.0.0.1:1", 1)
	if dead == string(env.Cluster("services").Kubeconfig) {
		t.Fatal("could not rewrite the server address")
	}
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "unreachable", Name: "gone", Kubeconfig: []byte(dead)}); err != nil {
		t.Fatal(err)
	}
	updateCluster(t, "unreachable", "gone", func(sc *libv1beta1.SveltosCluster) { sc.Spec.ConsecutiveFailureThreshold = 1 })
	sc := waitFor(t, "unreachable", "gone", "down", isDown)
	if msg := deref(sc.Status.FailureMessage); !strings.Contains(msg, "127.0.0.1:1") {
		t.Errorf("failureMessage %q does not name the address", msg)
	}
	if sc.Status.ConnectionFailures < 1 {
		t.Errorf("connectionFailures = %d", sc.Status.ConnectionFailures)
	}
}

func setKubeconfig(t *testing.T, namespace, name string, data []byte) {
	t.Helper()
	s := &corev1.Secret{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	s.Data = map[string][]byte{libv1beta1.KubeconfigSecretKey: data}
	if err := mgmt.Update(context.Background(), s); err != nil {
		t.Fatal(fmt.Errorf("updating Secret: %w", err))
	}
}

// A healthy cluster whose API server goes away is found Down by the periodic
// probe alone (nothing in the management cluster changes).
func TestPeriodicProbeNoticesOutage(t *testing.T) {
	ctx := context.Background()
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "outage", Name: "ephemeral", Kubeconfig: env.Cluster("ephemeral").Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	updateCluster(t, "outage", "ephemeral", func(sc *libv1beta1.SveltosCluster) { sc.Spec.ConsecutiveFailureThreshold = 1 })
	waitFor(t, "outage", "ephemeral", "ready", isReady)
	if err := env.StopCluster("ephemeral"); err != nil {
		t.Fatal(err)
	}
	sc := waitFor(t, "outage", "ephemeral", "down", isDown)
	if msg := deref(sc.Status.FailureMessage); !strings.Contains(msg, env.Cluster("ephemeral").URL) {
		t.Errorf("failureMessage %q does not name the server", msg)
	}
}
