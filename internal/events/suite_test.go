package events_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster

	// running is the manager of the tests; restart_test.go replaces it.
	running managertest.Stopper
)

// fleetNamespace is where the services and workload clusters are registered.
const fleetNamespace = "fleet"

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "services", "workload"}, InstallCRDs: true}, &env, setup))
}

func setup(ctx context.Context, env *testenv.Env) error {
	level := zapcore.Level(2)
	if os.Getenv("TUGBOAT_TEST_VERBOSE") != "" {
		level = -1
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
	var err error
	if mgmt, err = client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()}); err != nil {
		return err
	}
	if err := startNATS(ctx); err != nil {
		return err
	}
	if err := startManager(ctx); err != nil {
		return err
	}
	mgmtRef := manager.DefaultOptions().ManagementCluster
	if err := clusters.EnsureManagementCluster(ctx, mgmt, mgmtRef); err != nil {
		return err
	}
	if err := updateLabels(ctx, mgmtRef, map[string]string{"type": "mgmt"}); err != nil {
		return err
	}
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: fleetNamespace, Name: "services",
		Kubeconfig: env.Cluster("services").Kubeconfig, Labels: map[string]string{"type": "services"}}); err != nil {
		return err
	}
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: fleetNamespace, Name: "workload",
		Kubeconfig: env.Cluster("workload").Kubeconfig}); err != nil {
		return err
	}
	return nil
}

// startManager starts a Tugboat manager that runs until ctx ends or stopManager is called.
func startManager(ctx context.Context) error {
	opts := manager.DefaultOptions()
	opts.MetricsAddr, opts.ProbeAddr, opts.LeaderElection = "0", "0", false
	opts.SkipControllerNameValidation = true
	opts.Events = &events.HTTPOptions{Address: eventsAddr, TokenSecret: eventsTokenSecret}
	runCtx, cancel := context.WithCancel(ctx)
	mgr, err := manager.New(runCtx, env.Management().Config, opts)
	if err != nil {
		cancel()
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(runCtx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	running.Set(func() { cancel(); <-done })
	return nil
}

// stopManager stops the running manager and waits until it has stopped.
func stopManager() {
	running.Stop()
}

func updateLabels(ctx context.Context, cluster types.NamespacedName, labels map[string]string) error {
	return clusters.SetLabels(ctx, mgmt, cluster, labels)
}

// setLabels sets (or, with an empty value, removes) labels of a fleet cluster.
func setLabels(t *testing.T, cluster string, labels map[string]string) {
	t.Helper()
	if err := updateLabels(context.Background(), types.NamespacedName{Namespace: fleetNamespace, Name: cluster}, labels); err != nil {
		t.Fatal(err)
	}
}

// clusterClient is a direct client of one of the test clusters.
func clusterClient(t *testing.T, name string) client.Client {
	t.Helper()
	return testenv.ClusterClient(t, env, name)
}

// applyYAML creates every document of a manifest in the management cluster.
func applyYAML(t *testing.T, manifest []byte) {
	t.Helper()
	if err := createObjects(manifest, false); err != nil {
		t.Fatal(err)
	}
}

// createObjects creates every document of a manifest in the management
// cluster; with ignoreExisting, objects already there are left as they are.
func createObjects(manifest []byte, ignoreExisting bool) error {
	return testenv.CreateObjects(context.Background(), mgmt, manifest, ignoreExisting)
}

func readFixture(t testing.TB, name string) []byte { return testenv.Fixture(t, name) }

// generatedProfiles lists the ClusterProfiles an EventTrigger generated.
func generatedProfiles(t *testing.T, trigger string) []configv1beta1.ClusterProfile {
	t.Helper()
	list := &configv1beta1.ClusterProfileList{}
	if err := mgmt.List(context.Background(), list, client.MatchingLabels{libv1beta1.EventTriggerNameLabel: trigger}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func notFound(c client.Client, obj client.Object, key types.NamespacedName) error {
	if err := c.Get(context.Background(), key, obj); err == nil {
		return fmt.Errorf("%s %s still exists", fmt.Sprintf("%T", obj), key)
	} else if client.IgnoreNotFound(err) != nil {
		return err
	}
	return nil
}

func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	if err := clusters.EnsureNamespace(context.Background(), c, name); err != nil {
		t.Fatal(err)
	}
}

// labelledConfigMapsSource is EventSource name, selecting the ConfigMaps
// labelled events-test=<name> in namespace (any when empty).
func labelledConfigMapsSource(name, namespace string) *libv1beta1.EventSource {
	return &libv1beta1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.EventSourceSpec{ResourceSelectors: []libv1beta1.ResourceSelector{{
			Version: "v1", Kind: "ConfigMap", Namespace: namespace,
			LabelFilters: []libv1beta1.LabelFilter{{Key: "events-test", Operation: libv1beta1.OperationEqual, Value: name}},
		}}},
	}
}

// sourcedTrigger is EventTrigger name on EventSource name, sourcing the
// clusters labelled <name>=source (no destination: the source cluster) and
// instantiating the ConfigMap default/<policy>, once per event with
// oneForEvent.
func sourcedTrigger(name, policy string, oneForEvent bool) *libv1beta1.EventTrigger {
	return &libv1beta1.EventTrigger{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.EventTriggerSpec{
			SourceClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{name: "source"}}},
			EventSourceName:       name,
			OneForEvent:           oneForEvent,
			PolicyRefs:            []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: policy}},
		},
	}
}

// createAll creates objs in the management cluster, in order.
func createAll(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := mgmt.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// oneForEventTrigger creates, under name, a ConfigMap template generating a
// ConfigMap <matching resource>-<suffix>, an EventSource matching ConfigMaps
// labelled events-test=<name> (in sourceNamespace, any when empty) and an
// EventTrigger (oneForEvent) sourcing clusters labelled <name>=source; it
// returns the template.
func oneForEventTrigger(t *testing.T, name, suffix, sourceNamespace string) *corev1.ConfigMap {
	t.Helper()
	template := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: map[string]string{libv1beta1.InstantiateAnnotation: "ok"}},
		Data: map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .MatchingResource.Name }}-` + suffix + `
  namespace: default
`},
	}
	createAll(t, template, labelledConfigMapsSource(name, sourceNamespace), sourcedTrigger(name, name, true))
	return template
}

// perClusterTriggerOnServices sets up perClusterTrigger with one matching
// ConfigMap cm in the services cluster, labels services as a source until the
// test ends and returns the one ClusterProfile generated.
func perClusterTriggerOnServices(t *testing.T, name, cm string) configv1beta1.ClusterProfile {
	t.Helper()
	perClusterTrigger(t, name)
	createSourceConfigMap(t, clusterClient(t, "services"), name, cm, "x")
	setLabels(t, "services", map[string]string{name: "source"})
	t.Cleanup(func() { setLabels(t, "services", map[string]string{name: ""}) })
	return waitOneProfile(t, name)
}

// configMapEventSource is the manifest of an EventSource named name selecting
// the ConfigMaps labelled events-test=name, followed by a document separator.
func configMapEventSource(name string) string {
	return `apiVersion: lib.projectsveltos.io/v1beta1
kind: EventSource
metadata: {name: ` + name + `}
spec:
  resourceSelectors:
  - {version: v1, kind: ConfigMap, labelFilters: [{key: events-test, operation: Equal, value: ` + name + `}]}
---
`
}
