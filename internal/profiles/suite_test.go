package profiles_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
	mgr  *manager.Manager
)

// The managed clusters of this package, registered in namespace "fleet".
var managed = []string{"app-1", "app-2"}

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: append([]string{"mgmt"}, managed...), InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	var err error
	if mgr, mgmt, err = managertest.Start(ctx, env, managertest.Options(env)); err != nil {
		return err
	}
	for _, name := range managed {
		if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "fleet", Name: name, Kubeconfig: env.Cluster(name).Kubeconfig}); err != nil {
			return err
		}
	}
	return nil
}

// managedClientNoT is a client of a managed cluster, for use inside polls.
func managedClientNoT(name string) client.Client {
	c, err := client.New(env.Cluster(name).Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		panic(err)
	}
	return c
}

// managedClient is a client of a managed cluster.
func managedClient(t *testing.T, name string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(name).Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setLabels sets (or, with an empty value, removes) labels of a managed cluster's SveltosCluster.
func setLabels(t *testing.T, cluster string, labels map[string]string) {
	t.Helper()
	if err := clusters.SetLabels(context.Background(), mgmt, types.NamespacedName{Namespace: "fleet", Name: cluster}, labels); err != nil {
		t.Fatal(err)
	}
}

// summary waits for the summary of a ClusterProfile in a cluster and returns it once check accepts it.
func waitSummary(t *testing.T, profile, cluster string, check func(*configv1beta1.ClusterSummary) error) *configv1beta1.ClusterSummary {
	t.Helper()
	var s *configv1beta1.ClusterSummary
	name := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, profile, cluster)
	testenv.Eventually(t, "ClusterSummary fleet/"+name, func() error {
		s = &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "fleet", Name: name}, s); err != nil {
			return err
		}
		return check(s)
	})
	return s
}

func resourcesStatus(want libv1beta1.FeatureStatus) func(*configv1beta1.ClusterSummary) error {
	return func(s *configv1beta1.ClusterSummary) error {
		return featureIs(s, libv1beta1.FeatureResources, want)
	}
}

// featureIs checks the status of one feature of a summary.
func featureIs(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID, want libv1beta1.FeatureStatus) error {
	fs := s.FeatureSummary(id)
	if fs == nil {
		return fmt.Errorf("no %s feature yet", id)
	}
	if fs.Status != want {
		msg := ""
		if fs.FailureMessage != nil {
			msg = *fs.FailureMessage
		}
		return fmt.Errorf("%s is %s (%s), want %s", id, fs.Status, msg, want)
	}
	return nil
}

// applyYAML creates every document of a manifest in the management cluster.
func applyYAML(t *testing.T, manifest []byte) {
	t.Helper()
	if err := testenv.CreateObjects(context.Background(), mgmt, manifest, false); err != nil {
		t.Fatal(err)
	}
}

func notFound(c client.Client, obj client.Object, key types.NamespacedName) error {
	if err := c.Get(context.Background(), key, obj); err == nil {
		return fmt.Errorf("%s still exists", key)
	} else if client.IgnoreNotFound(err) != nil {
		return err
	}
	return nil
}
