package clusterpromotion_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
)

// The managed clusters: one per stage, registered in namespace "fleet" and
// labelled env=<name>.
var managed = []string{"dev", "prod"}

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: append([]string{"mgmt"}, managed...), InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	var err error
	if _, mgmt, err = managertest.Start(ctx, env, managertest.Options(env)); err != nil {
		return err
	}
	return managertest.RegisterFleet(ctx, mgmt, env, "fleet", managed, func(name string) map[string]string { return map[string]string{"env": name} })
}

// clusterClient is a direct client of a managed cluster.
func clusterClient(t *testing.T, name string) client.Client {
	t.Helper()
	return testenv.ClusterClient(t, env, name)
}

// policy creates (or replaces the content of) a ConfigMap in the management
// cluster holding one object to deploy, and returns its reference.
func policy(t *testing.T, name, object string) libv1beta1.PolicyRef {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Data: map[string]string{"object.yaml": object}}
	if err := mgmt.Create(ctx, cm); apierrors.IsAlreadyExists(err) {
		err = mgmt.Update(ctx, cm)
	} else if err != nil {
		t.Fatal(err)
	}
	return libv1beta1.PolicyRef{Kind: "ConfigMap", Namespace: "default", Name: name}
}

// configMapObject is a ConfigMap manifest for namespace default.
func configMapObject(name, value string) string {
	return fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": %q, "namespace": "default"}, "data": {"value": %q}}`, name, value)
}

// stage is a stage selecting the cluster labelled env=<cluster>.
func stage(name string, trigger *configv1beta1.Trigger) configv1beta1.Stage {
	s := configv1beta1.Stage{Name: name, Trigger: trigger}
	s.ClusterSelector.MatchLabels = map[string]string{"env": name}
	return s
}

// createPromotion creates a ClusterPromotion and deletes it when the test ends.
func createPromotion(t *testing.T, p *configv1beta1.ClusterPromotion) {
	t.Helper()
	if err := mgmt.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), p) })
}

func getPromotion(name string) (*configv1beta1.ClusterPromotion, error) {
	p := &configv1beta1.ClusterPromotion{}
	return p, mgmt.Get(context.Background(), types.NamespacedName{Name: name}, p)
}

// updatePromotion changes a ClusterPromotion's spec, retrying on conflicts
// (the controller writes it too: its finalizer, consumed approvals).
func updatePromotion(t *testing.T, name string, change func(*configv1beta1.ClusterPromotion)) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := getPromotion(name)
		if err != nil {
			return err
		}
		change(p)
		return mgmt.Update(context.Background(), p)
	}); err != nil {
		t.Fatal(err)
	}
}

// waitPromotion waits until check accepts the ClusterPromotion.
func waitPromotion(t *testing.T, name, what string, check func(*configv1beta1.ClusterPromotion) error) *configv1beta1.ClusterPromotion {
	t.Helper()
	var last *configv1beta1.ClusterPromotion
	testenv.Eventually(t, "ClusterPromotion "+name+": "+what, func() error {
		p, err := getPromotion(name)
		if err != nil {
			return err
		}
		last = p
		return check(p)
	})
	return last
}

// readyIs checks the Ready condition's status, reason and message.
func readyIs(status metav1.ConditionStatus, reason, message string) func(*configv1beta1.ClusterPromotion) error {
	return func(p *configv1beta1.ClusterPromotion) error {
		for _, c := range p.Status.Conditions {
			if c.Type == "Ready" && c.ObservedGeneration == p.Generation {
				if c.Status != status || c.Reason != reason || !strings.Contains(c.Message, message) {
					return fmt.Errorf("Ready is %s/%s %q; want %s/%s containing %q", c.Status, c.Reason, c.Message, status, reason, message)
				}
				return nil
			}
		}
		return errors.New("no Ready condition for the current generation")
	}
}

func stageOf(p *configv1beta1.ClusterPromotion, name string) *configv1beta1.StageStatus {
	for i := range p.Status.Stages {
		if p.Status.Stages[i].Name == name {
			return &p.Status.Stages[i]
		}
	}
	return nil
}

// profileAbsent fails the test if the ClusterProfile exists.
func profileAbsent(t *testing.T, name string) {
	t.Helper()
	err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, &configv1beta1.ClusterProfile{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("ClusterProfile %s: want none, got err %v", name, err)
	}
}

// configMapValue reads data.value of ConfigMap default/<name> in a managed cluster.
func configMapValue(t *testing.T, cluster, name string) (string, error) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := clusterClient(t, cluster).Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, cm); err != nil {
		return "", err
	}
	return cm.Data["value"], nil
}

// waitConfigMap waits until ConfigMap default/<name> in a cluster holds value.
func waitConfigMap(t *testing.T, cluster, name, value string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("ConfigMap %s=%s in %s", name, value, cluster), func() error {
		got, err := configMapValue(t, cluster, name)
		if err != nil {
			return err
		}
		if got != value {
			return fmt.Errorf("value is %q", got)
		}
		return nil
	})
}

// noConfigMap fails the test if ConfigMap default/<name> exists in a cluster.
func noConfigMap(t *testing.T, cluster, name string) {
	t.Helper()
	if _, err := configMapValue(t, cluster, name); !apierrors.IsNotFound(err) {
		t.Fatalf("ConfigMap %s in %s: want none, got err %v", name, cluster, err)
	}
}

// eventFor waits for an Event about the ClusterPromotion with the reason and a note containing text.
func eventFor(t *testing.T, name, reason, text string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("a %s Event on ClusterPromotion %s", reason, name), func() error {
		list := &eventsv1.EventList{}
		if err := mgmt.List(context.Background(), list); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == reason && e.Regarding.Kind == configv1beta1.ClusterPromotionKind && e.Regarding.Name == name && strings.Contains(e.Note, text) {
				return nil
			}
		}
		return fmt.Errorf("none among %d events", len(list.Items))
	})
}

// generated lists the ClusterProfiles generated for a promotion.
func generated(t *testing.T, name string) []configv1beta1.ClusterProfile {
	t.Helper()
	list := &configv1beta1.ClusterProfileList{}
	if err := mgmt.List(context.Background(), list, client.MatchingLabels{configv1beta1.PromotionNameLabel: name}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}
