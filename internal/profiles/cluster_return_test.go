package profiles_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A cluster that answers again after failed probes brings its summaries back
// at once, their retry backoff reset (issue #22, finding 4): the summary's
// retry after its failed reconcile is held for an hour here (the package's
// manager spaces the retries of this test's namespace so), the cluster never
// goes Down (its failure threshold is out of reach, so no readiness change
// brings the summary back), and yet the content changed during the outage
// arrives once the API server is back — before that hour, which the test would
// not outlast.
func TestReturningClusterRunsItsSummariesAtOnce(t *testing.T) {
	ctx := context.Background()
	const name, ns = "returning-1", "returning"
	if _, err := env.AddCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.RemoveCluster(context.Background(), name) })
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: ns, Name: name,
		Kubeconfig: env.Cluster(name).Kubeconfig, Labels: map[string]string{"returning": "yes"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: ns, Name: name})
	})
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := mgmt.Patch(ctx, sc, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"consecutiveFailureThreshold":1000}}`))); err != nil {
		t.Fatal(err)
	}
	object := func(v string) string {
		return fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "returning", "namespace": "default"}, "data": {"v": %q}}`, v)
	}
	policyConfigMap(t, "returning", object("1"))
	clusterProfile(t, "returning", "returning", "yes", 0, "", "returning")
	t.Cleanup(func() {
		_ = mgmt.Delete(context.Background(), &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "returning"}})
	})
	summaryKey := types.NamespacedName{Namespace: ns, Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "returning", name)}
	summary := func(check func(*configv1beta1.ClusterSummary) error) func() error {
		return func() error {
			s := &configv1beta1.ClusterSummary{}
			if err := mgmt.Get(ctx, summaryKey, s); err != nil {
				return err
			}
			return check(s)
		}
	}
	valueIs := func(v string) func() error {
		return func() error {
			cm := &corev1.ConfigMap{}
			if err := managedClientNoT(name).Get(ctx, types.NamespacedName{Namespace: "default", Name: "returning"}, cm); err != nil {
				return err
			}
			if cm.Data["v"] != v {
				return fmt.Errorf("v is %q, want %q", cm.Data["v"], v)
			}
			return nil
		}
	}
	testenv.Eventually(t, "deployed", valueIs("1"))
	testenv.Eventually(t, "provisioned", summary(func(s *configv1beta1.ClusterSummary) error {
		return featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned)
	}))

	// From now on a failed reconcile of this namespace's summaries is retried
	// an hour later.
	summaryRetries.hold(ns)
	t.Cleanup(func() { summaryRetries.release(ns) })
	if err := env.StopCluster(name); err != nil {
		t.Fatal(err)
	}
	setPolicy(t, "returning", nil, object("2"))
	testenv.Eventually(t, "the summary failed against the stopped API server, its retry held", func() error {
		if err := summary(func(s *configv1beta1.ClusterSummary) error {
			return featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusFailed)
		})(); err != nil {
			return err
		}
		if summaryRetries.heldRetries(ns) == 0 {
			return fmt.Errorf("no retry held yet")
		}
		return nil
	})
	testenv.Eventually(t, "failed probes, the cluster still ready (not Down)", func() error {
		got := &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(ctx, client.ObjectKeyFromObject(sc), got); err != nil {
			return err
		}
		if got.Status.ConnectionFailures == 0 || !got.Status.Ready || got.Status.ConnectionStatus == libv1beta1.ConnectionDown {
			return fmt.Errorf("failures %d, ready %t, %s", got.Status.ConnectionFailures, got.Status.Ready, got.Status.ConnectionStatus)
		}
		return nil
	})

	if err := env.RestartCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the new content applied once the cluster answers, though its retry is held for an hour", valueIs("2"))
	testenv.Eventually(t, "provisioned again", summary(func(s *configv1beta1.ClusterSummary) error {
		return featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned)
	}))
}

// heldRetries is the ClusterSummary controller's rate limiter in this
// package's manager: controller-runtime's per-item exponential backoff, except
// for the namespaces a test holds, whose failed reconciles are retried an hour
// later.
type heldRetries struct {
	workqueue.TypedRateLimiter[reconcile.Request]
	mu sync.Mutex
	// held counts, per held namespace, the retries put off by an hour.
	held map[string]int
}

func newHeldRetries() *heldRetries {
	return &heldRetries{
		TypedRateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, 1000*time.Second),
		held:             map[string]int{},
	}
}

func (h *heldRetries) When(req reconcile.Request) time.Duration {
	h.mu.Lock()
	n, ok := h.held[req.Namespace]
	if ok {
		h.held[req.Namespace] = n + 1
	}
	h.mu.Unlock()
	if ok {
		return time.Hour
	}
	return h.TypedRateLimiter.When(req)
}

func (h *heldRetries) hold(namespace string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held[namespace] = 0
}

func (h *heldRetries) release(namespace string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.held, namespace)
}

func (h *heldRetries) heldRetries(namespace string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[namespace]
}
