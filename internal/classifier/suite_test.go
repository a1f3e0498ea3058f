package classifier_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
)

// The managed clusters of this package, registered in namespace fleetNamespace.
var managed = []string{"edge-1", "edge-2"}

const fleetNamespace = "fleet"

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: append([]string{"mgmt"}, managed...), InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	// Cluster API's CRD goes in before the manager starts (it reads Cluster API
	// clusters when the management cluster serves them at start): capi_test.go
	// plays Cluster API.
	if err := env.InstallClusterAPICRDs(ctx); err != nil {
		return err
	}
	var err error
	if _, mgmt, err = managertest.Start(ctx, env, managertest.Options(env)); err != nil {
		return err
	}
	return managertest.RegisterFleet(ctx, mgmt, env, fleetNamespace, managed, nil)
}

// managedClient is a direct client of one of the managed clusters.
func managedClient(t *testing.T, name string) client.Client {
	t.Helper()
	return testenv.ClusterClient(t, env, name)
}

func clusterKey(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: fleetNamespace, Name: name}
}

// clusterLabels reads a fleet cluster's labels.
func clusterLabels(t *testing.T, name string) map[string]string {
	t.Helper()
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(context.Background(), clusterKey(name), sc); err != nil {
		t.Fatal(err)
	}
	return sc.Labels
}

// labelIs checks that a fleet cluster's label key has value ("" for absent).
func labelIs(t *testing.T, cluster, key, value string) func() error {
	return func() error {
		got, ok := clusterLabels(t, cluster)[key]
		if value == "" && ok {
			return fmt.Errorf("cluster %s still has label %s=%s", cluster, key, got)
		}
		if value != "" && got != value {
			return fmt.Errorf("cluster %s has label %s=%q, want %q", cluster, key, got, value)
		}
		return nil
	}
}

// waitReady waits until every fleet cluster is ready (probed, version known).
func waitReady(t *testing.T) {
	t.Helper()
	for _, name := range managed {
		testenv.Eventually(t, "cluster "+name+" ready", func() error {
			sc := &libv1beta1.SveltosCluster{}
			if err := mgmt.Get(context.Background(), clusterKey(name), sc); err != nil {
				return err
			}
			if !sc.Status.Ready || sc.Status.Version == "" {
				return fmt.Errorf("not ready yet")
			}
			return nil
		})
	}
}

func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	if err := clusters.EnsureNamespace(context.Background(), c, name); err != nil {
		t.Fatal(err)
	}
}

// deleteClassifier deletes a Classifier when the test ends (its finalizer runs).
func deleteAtEnd(t *testing.T, obj client.Object) {
	t.Cleanup(func() {
		if err := mgmt.Delete(context.Background(), obj); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
}

// classifierStatus waits until the Classifier's status passes check.
func classifierStatus(t *testing.T, name string, check func(*libv1beta1.Classifier) error) *libv1beta1.Classifier {
	t.Helper()
	cl := &libv1beta1.Classifier{}
	testenv.Eventually(t, "status of Classifier "+name, func() error {
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, cl); err != nil {
			return err
		}
		return check(cl)
	})
	return cl
}

// matching lists the names of the clusters in machingClusterStatuses.
func matching(cl *libv1beta1.Classifier) []string {
	var out []string
	for _, m := range cl.Status.MachingClusterStatuses {
		out = append(out, m.ClusterRef.Name)
	}
	slices.Sort(out)
	return out
}

// clusterInfo is the Classifier's clusterInfo entry for a fleet cluster.
func clusterInfo(cl *libv1beta1.Classifier, cluster string) (libv1beta1.ClusterInfo, bool) {
	for _, i := range cl.Status.ClusterInfo {
		if i.Cluster.Namespace == fleetNamespace && i.Cluster.Name == cluster {
			return i, true
		}
	}
	return libv1beta1.ClusterInfo{}, false
}

// eventFor waits for an Event about the object with the reason and a note containing every part.
func eventFor(t *testing.T, kind, name, reason string, parts ...string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("a %s Event on %s %s", reason, kind, name), func() error {
		list := &eventsv1.EventList{}
		if err := mgmt.List(context.Background(), list); err != nil {
			return err
		}
	events:
		for _, e := range list.Items {
			if e.Reason != reason || e.Regarding.Kind != kind || e.Regarding.Name != name {
				continue
			}
			for _, p := range parts {
				if !strings.Contains(e.Note, p) {
					continue events
				}
			}
			return nil
		}
		return fmt.Errorf("%d events, none %s on %s %s containing %q", len(list.Items), reason, kind, name, parts)
	})
}

// configMap is a ConfigMap with labels.
func configMap(namespace, name string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}, Data: data}
}
