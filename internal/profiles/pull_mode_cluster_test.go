package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr/testr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A SveltosCluster in pull mode, with no kubeconfig anywhere in the
// management cluster, is reached through its agent (run here in-process with
// the managed cluster's admin configuration, as `tug agent` would in the
// cluster): it becomes Ready, a ClusterProfile deploys to it, drift is
// repaired; when the agent stops the cluster goes not ready saying so, a
// profile change made meanwhile lands once the agent is back, and deleting
// the profile withdraws what it deployed.
func TestPullModeCluster(t *testing.T) {
	ctx := context.Background()
	const ns, name = "pull", "pull-1"
	if _, err := env.AddCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.RemoveCluster(context.Background(), name) })
	if _, err := clusters.RegisterPullMode(ctx, mgmt, clusters.PullModeRegistration{Namespace: ns, Name: name, Labels: map[string]string{"pullmode": "yes"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: ns, Name: name})
	})
	// One failed probe through a stopped agent reports the cluster down.
	testenv.Update(t, mgmt, types.NamespacedName{Namespace: ns, Name: name}, &libv1beta1.SveltosCluster{},
		func(sc *libv1beta1.SveltosCluster) { sc.Spec.ConsecutiveFailureThreshold = 1 })

	// The agent's token: the test clusters run no token controller, so the
	// test asks for one of the registered ServiceAccount directly.
	cs, err := kubernetes.NewForConfig(env.Management().Config)
	if err != nil {
		t.Fatal(err)
	}
	sa := clusters.AgentIdentityOf(types.NamespacedName{Namespace: ns, Name: name}).ServiceAccount
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hubURL, err := managertest.PullModeHubURL(ctx, mgr)
	if err != nil {
		t.Fatal(err)
	}
	var ca []byte
	testenv.Eventually(t, "the hub's CA Secret", func() error {
		ca, err = pullmode.ReadCA(ctx, mgmt, "projectsveltos")
		return err
	})
	startAgent := func() (stop func()) {
		agentCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		agent := &pullmode.Agent{HubURL: hubURL, CAData: ca, Token: tr.Status.Token,
			Cluster: libv1beta1.SveltosClusterID(ns, name), Local: rest.CopyConfig(env.Cluster(name).Config), Log: testr.New(t)}
		go func() {
			defer close(done)
			_ = agent.Run(agentCtx)
		}()
		stop = func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop
	}
	cluster := func(what string, check func(*libv1beta1.SveltosCluster) error) {
		t.Helper()
		testenv.Eventually(t, what, func() error {
			sc := &libv1beta1.SveltosCluster{}
			if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, sc); err != nil {
				return err
			}
			return check(sc)
		})
	}
	ready := func(sc *libv1beta1.SveltosCluster) error {
		if !sc.Status.Ready || sc.Status.AgentLastReportTime == nil {
			return fmt.Errorf("ready %v, agentLastReportTime %v, failure %v", sc.Status.Ready, sc.Status.AgentLastReportTime, sc.Status.FailureMessage)
		}
		return nil
	}

	stopAgent := startAgent()
	cluster("ready through its agent", ready)
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + libv1beta1.KubeconfigSecretSuffix}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a pull-mode cluster's kubeconfig Secret: want none, got %v", err)
	}

	policyConfigMap(t, "pull-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pulled", "namespace": "default"}, "data": {"a": "1"}}`)
	t.Cleanup(func() {
		_ = mgmt.Delete(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "pull-cm"}})
	})
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "pull"}, Spec: configv1beta1.Spec{
		SyncMode:   libv1beta1.SyncModeContinuousWithDriftDetection,
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "pull-cm"}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"pullmode": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), p) })
	testenv.Eventually(t, "deployed through the agent", configMapHas(name, "default", "pulled", map[string]string{"a": "1"}))

	// Drift: changed in the managed cluster → restored through the agent.
	managed := managedClient(t, name)
	testenv.Update(t, managed, types.NamespacedName{Namespace: "default", Name: "pulled"}, &corev1.ConfigMap{},
		func(cm *corev1.ConfigMap) { cm.Data["a"] = "drifted" })
	testenv.Eventually(t, "drift repaired through the agent", configMapHas(name, "default", "pulled", map[string]string{"a": "1"}))

	// The agent stops: the cluster is down, saying why.
	stopAgent()
	cluster("not ready without its agent", func(sc *libv1beta1.SveltosCluster) error {
		msg := ""
		if sc.Status.FailureMessage != nil {
			msg = *sc.Status.FailureMessage
		}
		if sc.Status.Ready || !strings.Contains(msg, "the agent of pull-mode cluster pull/pull-1 is not connected") {
			return fmt.Errorf("ready %v, failure %q", sc.Status.Ready, msg)
		}
		return nil
	})
	// A change made meanwhile lands once the agent is back.
	setPolicy(t, "pull-cm", nil, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pulled", "namespace": "default"}, "data": {"a": "2"}}`)
	startAgent()
	cluster("ready again", ready)
	testenv.Eventually(t, "the change made while the agent was away", configMapHas(name, "default", "pulled", map[string]string{"a": "2"}))

	// Deleting the profile withdraws the ConfigMap through the agent.
	if err := mgmt.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "withdrawn through the agent", func() error {
		err := managed.Get(ctx, types.NamespacedName{Namespace: "default", Name: "pulled"}, &corev1.ConfigMap{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}
