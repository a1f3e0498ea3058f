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

// A kustomization with a base and an overlay (a tarball in a ConfigMap's
// binaryData) deploys the overlay's result, with values from valuesFrom, into
// every matching cluster, and is withdrawn on unmatch.
func TestKustomizeOverlayWithValuesFrom(t *testing.T) {
	ctx := context.Background()
	kustomizeSource(t, "overlay-src", map[string]string{
		"base/kustomization.yaml":          "resources:\n- settings.yaml\n",
		"base/settings.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  tier: base\n  region: \"{{ .Region }}\"\n",
		"overlays/prod/kustomization.yaml": "resources:\n- ../../base\nnamePrefix: prod-\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: settings\n    data:\n      tier: prod\n",
	})
	if err := mgmt.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "overlay-values"},
		Data:       map[string]string{"Region": "{{ .Cluster.metadata.name }}-west"},
	}); err != nil {
		t.Fatal(err)
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "overlay"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"overlay": "yes"}
	p.Spec.KustomizationRefs = []libv1beta1.KustomizationRef{{
		Kind: "ConfigMap", Namespace: "default", Name: "overlay-src", Path: "overlays/prod", TargetNamespace: "overlay",
		ValuesFrom: []libv1beta1.ValueFrom{{Kind: "ConfigMap", Namespace: "default", Name: "overlay-values"}},
	}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, c := range managed {
		setLabels(t, c, map[string]string{"overlay": "yes"})
	}
	for _, c := range managed {
		testenv.Eventually(t, "overlay result in "+c, func() error {
			cm := &corev1.ConfigMap{}
			if err := managedClientNoT(c).Get(ctx, types.NamespacedName{Namespace: "overlay", Name: "prod-settings"}, cm); err != nil {
				return err
			}
			if cm.Data["tier"] != "prod" || cm.Data["region"] != c+"-west" {
				return fmt.Errorf("data %v", cm.Data)
			}
			return nil
		})
	}
	setLabels(t, "app-1", map[string]string{"overlay": ""})
	testenv.Eventually(t, "withdrawn from app-1", func() error {
		return notFound(managedClientNoT("app-1"), &corev1.ConfigMap{}, types.NamespacedName{Namespace: "overlay", Name: "prod-settings"})
	})
	if err := configMapIn("app-2", "overlay", "prod-settings")(); err != nil {
		t.Errorf("app-2 lost its object: %v", err)
	}
}
