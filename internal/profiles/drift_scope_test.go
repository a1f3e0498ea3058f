package profiles_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Only profiles with ContinuousWithDriftDetection have drift repaired. A
// Continuous profile's object in a cluster whose ConfigMaps are watched for
// another profile's drift keeps a change made by hand.
func TestDriftRepairIsOnlyForDriftProfiles(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "drift-scope-watched", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scope-watched", "namespace": "default"}, "data": {"k": "v"}}`)
	policyConfigMap(t, "drift-scope-plain", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scope-plain", "namespace": "default"}, "data": {"k": "v"}}`)
	for name, mode := range map[string]libv1beta1.SyncMode{
		"drift-scope-watched": libv1beta1.SyncModeContinuousWithDriftDetection,
		"drift-scope-plain":   libv1beta1.SyncModeContinuous,
	} {
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
		p.Spec.ClusterSelector.MatchLabels = map[string]string{"drift-scope": "yes"}
		p.Spec.SyncMode = mode
		p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: name}}
		if err := mgmt.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	setLabels(t, "app-1", map[string]string{"drift-scope": "yes"})
	waitSummary(t, "drift-scope-watched", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	waitSummary(t, "drift-scope-plain", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	app1 := managedClient(t, "app-1")
	edit := func(name string) {
		t.Helper()
		cm := &corev1.ConfigMap{}
		if err := app1.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, cm); err != nil {
			t.Fatal(err)
		}
		cm.Data["k"] = "by hand"
		if err := app1.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	value := func(name string) string {
		cm := &corev1.ConfigMap{}
		if err := app1.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, cm); err != nil {
			return err.Error()
		}
		return cm.Data["k"]
	}

	// The drift profile's object is repaired (so its kind is watched in app-1).
	edit("scope-watched")
	testenv.Eventually(t, "scope-watched repaired", func() error {
		if v := value("scope-watched"); v != "v" {
			return fmt.Errorf("scope-watched is %q", v)
		}
		return nil
	})
	// The Continuous profile's object keeps the change, while a drift repair of
	// the other profile proves the watch saw it in time.
	edit("scope-plain")
	edit("scope-watched")
	testenv.Eventually(t, "scope-watched repaired again", func() error {
		if v := value("scope-watched"); v != "v" {
			return fmt.Errorf("scope-watched is %q", v)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // a repair of scope-plain would have come with the other's
	if v := value("scope-plain"); v != "by hand" {
		t.Errorf("the Continuous profile's object was reset to %q: drift repair applied to a profile without drift detection", v)
	}
}
