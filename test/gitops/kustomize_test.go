package gitops_test

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// kustomizationRefs of kind GitRepository build the kustomization at path inside
// the artifact (a base and an overlay in the repository) and follow commits.
func TestKustomizationFromGitRepository(t *testing.T) {
	ctx := context.Background()
	work, ref := newSource(t, "kustomized", map[string]string{
		"base/kustomization.yaml":          "resources:\n- cm.yaml\n",
		"base/cm.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-settings\ndata:\n  value: base\n",
		"overlays/prod/kustomization.yaml": "resources:\n- ../../base\nnamePrefix: prod-\npatches:\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: app-settings\n    data:\n      value: prod\n",
	})
	cp := &configv1beta1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "kustomized"},
		Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
			KustomizationRefs: []libv1beta1.KustomizationRef{{Kind: sources.GitRepository, Namespace: "flux-system", Name: "kustomized",
				Path: "overlays/prod", TargetNamespace: "apps"}},
		},
	}
	if err := mgmt.Create(ctx, cp); err != nil {
		t.Fatal(err)
	}
	for _, name := range managed {
		c := managedClient(t, name)
		waitConfigMapValue(t, c, name, "prod-app-settings", "prod")
	}

	push(t, work, ref, map[string]string{
		"overlays/prod/kustomization.yaml": "resources:\n- ../../base\nnamePrefix: prod-\npatches:\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: app-settings\n    data:\n      value: prod-v2\n",
	})
	for _, name := range managed {
		c := managedClient(t, name)
		waitConfigMapValue(t, c, name, "prod-app-settings", "prod-v2")
		if _, err := configMapValue(c, "app-settings"); !apierrors.IsNotFound(err) {
			t.Errorf("%s: the base's unprefixed ConfigMap was deployed (%v)", name, err)
		}
	}
}
