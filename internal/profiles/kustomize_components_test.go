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

// kustomizationRefs[].components: a source holding a base and a component
// (kind: Component) deploys the base with the component applied; a component
// folder that is not in the source fails the Kustomize feature naming it, and
// what was deployed stays.
func TestKustomizeComponents(t *testing.T) {
	ctx := context.Background()
	kustomizeSource(t, "components-src", map[string]string{
		"base/kustomization.yaml": "resources:\n- settings.yaml\n",
		"base/settings.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: comp-settings\n  namespace: components\ndata:\n  tier: base\n",
		"components/monitoring/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" +
			"labels:\n- pairs:\n    monitoring: enabled\n" +
			"patches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: comp-settings\n      namespace: components\n    data:\n      scrape: \"true\"\n",
	})
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "kustomize-components"}}
	p.Spec.KustomizationRefs = []libv1beta1.KustomizationRef{{
		Kind: "ConfigMap", Namespace: "default", Name: "components-src", Path: "base",
		Components: []string{"../components/monitoring"},
	}}
	selectCluster(t, p, "app-1", "kustomize-components")

	waitSummary(t, p.Name, "app-1", featureStatus(libv1beta1.FeatureKustomize, libv1beta1.FeatureStatusProvisioned))
	key := types.NamespacedName{Namespace: "components", Name: "comp-settings"}
	testenv.Eventually(t, "the base with the component in app-1", func() error {
		cm := &corev1.ConfigMap{}
		if err := managedClientNoT("app-1").Get(ctx, key, cm); err != nil {
			return err
		}
		if cm.Data["tier"] != "base" || cm.Data["scrape"] != "true" || cm.Labels["monitoring"] != "enabled" {
			return fmt.Errorf("data %v labels %v", cm.Data, cm.Labels)
		}
		return nil
	})

	updateClusterProfile(t, p.Name, func(p *configv1beta1.ClusterProfile) {
		p.Spec.KustomizationRefs[0].Components = []string{"../components/logging"}
	})
	waitSummary(t, p.Name, "app-1", featureFailedWith(libv1beta1.FeatureKustomize,
		`component "../components/logging"`, `no folder "components/logging"`, "components/monitoring"))
	if err := configMapIn("app-1", key.Namespace, key.Name)(); err != nil {
		t.Errorf("the last good deployment was not kept: %v", err)
	}
}
