package tenancy_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct (admin) client of the management cluster
	// a1 is team-a's cluster (registered as team-a/a1), b1 team-b's (team-b/b1);
	// both are labelled env=prod.
	a1, b1 client.Client
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "a1", "b1"}, InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	var err error
	if _, mgmt, err = managertest.Start(ctx, env, managertest.Options(env)); err != nil {
		return err
	}
	for _, c := range []struct{ namespace, name string }{{"team-a", "a1"}, {"team-b", "b1"}} {
		if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.namespace}}); err != nil {
			return err
		}
		if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: c.namespace, Name: c.name,
			Kubeconfig: env.Cluster(c.name).Kubeconfig, Labels: map[string]string{"env": "prod"}}); err != nil {
			return err
		}
	}
	if a1, err = client.New(env.Cluster("a1").Config, client.Options{Scheme: api.NewScheme()}); err != nil {
		return err
	}
	if b1, err = client.New(env.Cluster("b1").Config, client.Options{Scheme: api.NewScheme()}); err != nil {
		return err
	}
	return nil
}

// setClusterLabels sets (or, with an empty value, removes) labels of a cluster.
func setClusterLabels(t *testing.T, namespace, name string, labels map[string]string) {
	t.Helper()
	if err := clusters.SetLabels(context.Background(), mgmt, types.NamespacedName{Namespace: namespace, Name: name}, labels); err != nil {
		t.Fatal(err)
	}
}

// eventsAbout lists the messages of the events (events.k8s.io) about an object.
func eventsAbout(ctx context.Context, kind, namespace, name string) (string, error) {
	list := &eventsList{}
	if err := mgmt.List(ctx, list.obj()); err != nil {
		return "", err
	}
	var out []string
	for _, e := range list.items() {
		if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Regarding.Namespace == namespace {
			out = append(out, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Note))
		}
	}
	return strings.Join(out, "\n"), nil
}
