package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A template reading the cluster's labels is rendered again when a label
// changes; a document removed from the ConfigMap is removed from the cluster
// (stale cleanup); a Local policyRef lands in the management cluster.
func TestRerenderStaleCleanupAndLocal(t *testing.T) {
	ctx := context.Background()
	if err := mgmt.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "rerender-cm", Annotations: map[string]string{libv1beta1.TemplateAnnotation: "ok"}},
		Data: map[string]string{"objects.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: flavour, namespace: rerender}
data: {flavour: "{{ index .Cluster.metadata.labels "flavour" }}", cluster: "{{ .Cluster.metadata.name }}"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: extra, namespace: rerender}
`},
	}); err != nil {
		t.Fatal(err)
	}
	if err := mgmt.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "local-cm", Annotations: map[string]string{libv1beta1.TemplateAnnotation: "ok"}},
		Data:       map[string]string{"o.yaml": `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seen-{{ .Cluster.metadata.name }}", "namespace": "local-deploy"}}`},
	}); err != nil {
		t.Fatal(err)
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "rerender"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"rerender": "yes"}
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{
		{Kind: "ConfigMap", Namespace: "default", Name: "rerender-cm"},
		{Kind: "ConfigMap", Namespace: "default", Name: "local-cm", DeploymentType: libv1beta1.DeploymentTypeLocal},
	}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"rerender": "yes", "flavour": "vanilla"})
	app1 := managedClient(t, "app-1")
	flavour := func(want string) func() error {
		return func() error {
			cm := &corev1.ConfigMap{}
			if err := app1.Get(ctx, types.NamespacedName{Namespace: "rerender", Name: "flavour"}, cm); err != nil {
				return err
			}
			if cm.Data["flavour"] != want || cm.Data["cluster"] != "app-1" {
				return fmt.Errorf("data %v", cm.Data)
			}
			return nil
		}
	}
	testenv.Eventually(t, "rendered with vanilla", flavour("vanilla"))
	testenv.Eventually(t, "Local object in the management cluster", func() error {
		return mgmt.Get(ctx, types.NamespacedName{Namespace: "local-deploy", Name: "seen-app-1"}, &corev1.ConfigMap{})
	})
	if err := app1.Get(ctx, types.NamespacedName{Namespace: "local-deploy", Name: "seen-app-1"}, &corev1.ConfigMap{}); err == nil {
		t.Error("the Local object was also deployed to the managed cluster")
	}

	setLabels(t, "app-1", map[string]string{"flavour": "chocolate"})
	testenv.Eventually(t, "rendered again after the label change", flavour("chocolate"))

	setPolicy(t, "rerender-cm", map[string]string{libv1beta1.TemplateAnnotation: "ok"}, `apiVersion: v1
kind: ConfigMap
metadata: {name: flavour, namespace: rerender}
data: {flavour: "{{ index .Cluster.metadata.labels "flavour" }}", cluster: "{{ .Cluster.metadata.name }}"}
`)
	testenv.Eventually(t, "removed document cleaned up", func() error {
		return notFound(app1, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "rerender", Name: "extra"})
	})
	if err := flavour("chocolate")(); err != nil {
		t.Errorf("remaining object: %v", err)
	}

	// Unmatching withdraws the Local object too.
	setLabels(t, "app-1", map[string]string{"rerender": ""})
	testenv.Eventually(t, "Local object withdrawn", func() error {
		return notFound(mgmt, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "local-deploy", Name: "seen-app-1"})
	})
}
