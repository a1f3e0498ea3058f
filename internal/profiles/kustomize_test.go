package profiles_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// kustomizationRefs: a kustomization held in a ConfigMap (files as keys) is built
// in memory and deployed into the target namespace; the summary's KUSTOMIZEREFS
// is Provisioned; unmatching withdraws it.
func TestKustomizationRefDeploys(t *testing.T) {
	ctx := context.Background()
	if err := mgmt.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kustomize-src"},
		Data: map[string]string{
			"kustomization.yaml": "resources:\n- settings.yaml\ncommonLabels:\n  app: demo\n",
			"settings.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n",
		},
	}); err != nil {
		t.Fatal(err)
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "kustomized"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"kustomize": "yes"}
	p.Spec.KustomizationRefs = []libv1beta1.KustomizationRef{{Kind: "ConfigMap", Namespace: "default", Name: "kustomize-src", TargetNamespace: "kustomized"}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"kustomize": "yes"})
	waitSummary(t, "kustomized", "app-2", func(s *configv1beta1.ClusterSummary) error {
		return featureIs(s, libv1beta1.FeatureKustomize, libv1beta1.FeatureStatusProvisioned)
	})
	cm := &corev1.ConfigMap{}
	app2 := managedClient(t, "app-2")
	if err := app2.Get(ctx, types.NamespacedName{Namespace: "kustomized", Name: "settings"}, cm); err != nil {
		t.Fatal(err)
	}
	if cm.Labels["app"] != "demo" || cm.Data["color"] != "blue" || cm.Labels[libv1beta1.ReasonLabel] != string(libv1beta1.FeatureKustomize) {
		t.Errorf("deployed %v %v", cm.Labels, cm.Data)
	}

	setLabels(t, "app-2", map[string]string{"kustomize": ""})
	testenv.Eventually(t, "kustomization withdrawn", func() error {
		return notFound(app2, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "kustomized", Name: "settings"})
	})
}
