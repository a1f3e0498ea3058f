package pullmode_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// managerNamespace is where the hub keeps its CA Secret.
const managerNamespace = "projectsveltos"

var (
	env *testenv.Env
	// hub is the package's hub, serving on an ephemeral loopback port from
	// TestMain on; the "edge" cluster is the managed cluster its agents serve.
	hub *pullmode.Hub
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "edge"}, InstallCRDs: true}, &env, startHub))
}

// startHub starts the package's hub against the management cluster.
func startHub(ctx context.Context, env *testenv.Env) error {
	c, err := client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}
	if err := c.Create(ctx, ns); err != nil {
		return err
	}
	hub = &pullmode.Hub{Client: c, Options: pullmode.HubOptions{Address: "127.0.0.1:0", Namespace: managerNamespace}}
	go func() { _ = hub.Start(ctx) }()
	deadline := time.Now().Add(testenv.WaitTimeout)
	for hub.Addr() == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("the hub did not start listening")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// hubURL is where agents reach the package's hub.
func hubURL() string { return "https://" + hub.Addr().String() }

// hubCA is the CA agents trust, from the hub's CA Secret.
func hubCA(t *testing.T) []byte {
	t.Helper()
	ca, err := pullmode.ReadCA(context.Background(), testenv.ClusterClient(t, env, "mgmt"), managerNamespace)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// registerPullCluster creates, in the management cluster, the SveltosCluster
// namespace/name (pullMode as given, no kubeconfig Secret) and the identity of
// its agent: a ServiceAccount allowed to connect sveltosclusters/agent for
// that one cluster. It returns a token of that ServiceAccount.
func registerPullCluster(t *testing.T, namespace, name string, pullMode bool) string {
	t.Helper()
	ctx := context.Background()
	mgmt := testenv.ClusterClient(t, env, "mgmt")
	if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil && !isAlreadyExists(err) {
		t.Fatal(err)
	}
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: libv1beta1.SveltosClusterSpec{PullMode: pullMode}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-agent"}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-agent"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{libv1beta1.GroupVersion.Group}, Resources: []string{"sveltosclusters/agent"}, Verbs: []string{"connect"}, ResourceNames: []string{name},
	}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-agent"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: sa.Name}}}
	for _, o := range []client.Object{sc, sa, role, binding} {
		if err := mgmt.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
		t.Cleanup(func() { _ = mgmt.Delete(context.Background(), o) })
	}
	cs, err := kubernetes.NewForConfig(env.Management().Config)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

func isAlreadyExists(err error) bool {
	return err != nil && client.IgnoreAlreadyExists(err) == nil
}

// runningAgent is an agent started by a test.
type runningAgent struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// stop stops the agent and waits until it returned.
func (a *runningAgent) stop() {
	a.cancel()
	<-a.done
}

// startAgent runs an agent of cluster namespace/name with token, serving
// the "edge" cluster with its admin configuration; it is stopped at the end
// of the test.
func startAgent(t *testing.T, namespace, name, token string) *runningAgent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	agent := &pullmode.Agent{
		HubURL: hubURL(), CAData: hubCA(t), Token: token,
		Cluster: libv1beta1.SveltosClusterID(namespace, name),
		Local:   rest.CopyConfig(env.Cluster("edge").Config),
		Log:     testr.New(t),
	}
	ra := &runningAgent{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ra.done)
		_ = agent.Run(ctx)
	}()
	t.Cleanup(ra.stop)
	return ra
}

func clusterKey(namespace, name string) client.ObjectKey {
	return client.ObjectKey{Namespace: namespace, Name: name}
}
