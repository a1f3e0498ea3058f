package profiles_test

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/profiles"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// reloader: a profile changing the content of a ConfigMap that a Deployment in
// the cluster mounts (here through envFrom) changes the Deployment's
// pod-template annotation tugboat.dev/reloaded-config, so that it rolls; a
// deploy of the profile that leaves that ConfigMap's content as it was writes
// nothing to the Deployment.
func TestReloaderRollsWorkloadsMountingChangedConfigMaps(t *testing.T) {
	ctx := context.Background()
	app2 := managedClient(t, "app-2")
	createNamespace(t, app2, "reloader")
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "reloader", Name: "web"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
	}}
	web.Spec.Template.Labels = map[string]string{"app": "web"}
	web.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: "web:1",
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-settings"}}}}}}
	if err := app2.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	settings := func(v string) string {
		return fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-settings", "namespace": "reloader"}, "data": {"LEVEL": %q}}`, v)
	}
	policyConfigMap(t, "reloader-settings", settings("info"))
	policyConfigMap(t, "reloader-other", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unmounted", "namespace": "reloader"}, "data": {"a": "1"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "reloader"}, Spec: configv1beta1.Spec{
		Reloader: true,
		PolicyRefs: []libv1beta1.PolicyRef{
			{Kind: "ConfigMap", Namespace: "default", Name: "reloader-settings"},
			{Kind: "ConfigMap", Namespace: "default", Name: "reloader-other"},
		},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"reloader": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"reloader": "yes"})
	t.Cleanup(func() { setLabels(t, "app-2", map[string]string{"reloader": ""}) })

	current := func() (*appsv1.Deployment, error) {
		d := &appsv1.Deployment{}
		return d, app2.Get(ctx, types.NamespacedName{Namespace: "reloader", Name: "web"}, d)
	}
	waitAnnotation := func(not string) string {
		t.Helper()
		var got string
		testenv.Eventually(t, "reloaded-config annotation other than "+not, func() error {
			d, err := current()
			if err != nil {
				return err
			}
			got = d.Spec.Template.Annotations[profiles.ReloadedConfigAnnotation]
			if got == "" || got == not {
				return fmt.Errorf("annotation %q", got)
			}
			return nil
		})
		return got
	}
	first := waitAnnotation("")

	// New content of the mounted ConfigMap: a new annotation.
	setPolicy(t, "reloader-settings", nil, settings("debug"))
	second := waitAnnotation(first)

	// A change of another object only: the profile deploys again, the
	// Deployment is not written.
	before, err := current()
	if err != nil {
		t.Fatal(err)
	}
	deployedHash := string(waitSummary(t, "reloader", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned)).FeatureSummary(libv1beta1.FeatureResources).Hash)
	setPolicy(t, "reloader-other", nil, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unmounted", "namespace": "reloader"}, "data": {"a": "2"}}`)
	// The new hash is recorded by the reconcile that deployed it, after the reloader ran.
	waitSummary(t, "reloader", "app-2", func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned); err != nil {
			return err
		}
		if string(s.FeatureSummary(libv1beta1.FeatureResources).Hash) == deployedHash {
			return fmt.Errorf("the change of reloader-other is not deployed yet")
		}
		return nil
	})
	testenv.Eventually(t, "unmounted updated", func() error {
		cm := &corev1.ConfigMap{}
		if err := app2.Get(ctx, types.NamespacedName{Namespace: "reloader", Name: "unmounted"}, cm); err != nil {
			return err
		}
		if cm.Data["a"] != "2" {
			return fmt.Errorf("data %v", cm.Data)
		}
		return nil
	})
	after, err := current()
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion || after.Spec.Template.Annotations[profiles.ReloadedConfigAnnotation] != second {
		t.Fatalf("Deployment written although its ConfigMap did not change: resourceVersion %s → %s, annotation %q → %q",
			before.ResourceVersion, after.ResourceVersion, second, after.Spec.Template.Annotations[profiles.ReloadedConfigAnnotation])
	}
	if err := mgmt.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
}
