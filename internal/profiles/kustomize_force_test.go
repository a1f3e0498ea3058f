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

// kustomizationRefs[].force: a kustomization whose output changes an immutable
// field (the data of an immutable ConfigMap) fails with the server's message
// and the deployed object stays; with force the object is deleted and created
// again with the new content.
func TestKustomizeForce(t *testing.T) {
	ctx := context.Background()
	source := func(value string) map[string]string {
		return map[string]string{
			"kustomization.yaml": "resources:\n- frozen.yaml\n",
			"frozen.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\n  namespace: kustomize-force\nimmutable: true\ndata:\n  value: " + value + "\n",
		}
	}
	src := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kustomize-force-src"}, Data: source("v1")}
	if err := mgmt.Create(ctx, src); err != nil {
		t.Fatal(err)
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "kustomize-force"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"kustomize-force": "yes"}
	p.Spec.KustomizationRefs = []libv1beta1.KustomizationRef{{Kind: "ConfigMap", Namespace: "default", Name: src.Name}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"kustomize-force": "yes"})
	t.Cleanup(func() { setLabels(t, "app-1", map[string]string{"kustomize-force": ""}) })

	key := types.NamespacedName{Namespace: "kustomize-force", Name: "frozen"}
	value := func(want string) func() error {
		return configMapHas("app-1", key.Namespace, key.Name, map[string]string{"value": want})
	}
	testenv.Eventually(t, "v1 in app-1", value("v1"))
	first := &corev1.ConfigMap{}
	if err := managedClient(t, "app-1").Get(ctx, key, first); err != nil {
		t.Fatal(err)
	}

	src.Data = source("v2")
	if err := mgmt.Update(ctx, src); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, p.Name, "app-1", featureFailedWith(libv1beta1.FeatureKustomize, "ConfigMap kustomize-force/frozen", "immutable"))
	if err := value("v1")(); err != nil {
		t.Errorf("without force the deployed object changed: %v", err)
	}

	updateClusterProfile(t, p.Name, func(p *configv1beta1.ClusterProfile) { p.Spec.KustomizationRefs[0].Force = true })
	waitSummary(t, p.Name, "app-1", featureStatus(libv1beta1.FeatureKustomize, libv1beta1.FeatureStatusProvisioned))
	testenv.Eventually(t, "v2 in app-1", value("v2"))
	second := &corev1.ConfigMap{}
	if err := managedClient(t, "app-1").Get(ctx, key, second); err != nil {
		t.Fatal(err)
	}
	if second.UID == first.UID {
		t.Errorf("the ConfigMap was updated in place (uid %s), not recreated", first.UID)
	}
}
