package profiles_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A profile's patches are templates rendered for each cluster, and they apply
// to every object it deploys — the objects a Helm chart renders included (a
// post-renderer): a patch naming {{ .Cluster.metadata.name }} lands rendered
// on the chart's ConfigMap and on a policyRefs ConfigMap; changing the patch
// alone upgrades the release.
func TestPatchesAreTemplatesAndReachHelmObjects(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	policyConfigMap(t, "patched-plain", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "patched-plain", "namespace": "default"}, "data": {"a": "b"}}`)
	patch := func(value string) []libv1beta1.Patch {
		return []libv1beta1.Patch{{
			Target: &libv1beta1.PatchSelector{Kind: "ConfigMap"},
			Patch:  fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\n  labels:\n    patched-for: \"%s\"\n", value),
		}}
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "patched"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "patched-plain"}},
		HelmCharts: []libv1beta1.HelmChart{{RepositoryURL: repo.URL, RepositoryName: "local", ChartName: "local/platform-baseline",
			ChartVersion: "0.1.0", ReleaseName: "baseline", ReleaseNamespace: "patched"}},
		Patches: patch("{{ .Cluster.metadata.name }}"),
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"patched": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"patched": "yes"})
	t.Cleanup(func() { setLabels(t, "app-2", map[string]string{"patched": ""}) })

	label := func(ns, name string) (string, error) {
		cm := &corev1.ConfigMap{}
		if err := managedClientNoT("app-2").Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cm); err != nil {
			return "", err
		}
		return cm.Labels["patched-for"], nil
	}
	waitLabels := func(want string) {
		t.Helper()
		testenv.Eventually(t, "patched-for="+want+" on the chart's and the policy's ConfigMaps", func() error {
			for _, o := range [][2]string{{"patched", "platform-baseline"}, {"default", "patched-plain"}} {
				if v, err := label(o[0], o[1]); err != nil || v != want {
					return fmt.Errorf("%s/%s: patched-for=%q (%v)", o[0], o[1], v, err)
				}
			}
			return nil
		})
	}
	waitLabels("app-2")

	updateClusterProfile(t, "patched", func(p *configv1beta1.ClusterProfile) {
		p.Spec.Patches = patch("{{ .Cluster.metadata.namespace }}-{{ .Cluster.metadata.name }}")
	})
	waitLabels("fleet-app-2")

	t.Run("a patch template that fails names the patch and keeps what is deployed", func(t *testing.T) {
		updateClusterProfile(t, "patched", func(p *configv1beta1.ClusterProfile) {
			p.Spec.Patches = patch("{{ .Cluster.metadata.name | nosuchfunction }}")
		})
		waitSummary(t, "patched", "app-2", featureFailedWith(libv1beta1.FeatureHelm, "patches[0]", "nosuchfunction"))
		waitSummary(t, "patched", "app-2", failedWith("patches[0]", "nosuchfunction"))
		if v, err := label("patched", "platform-baseline"); err != nil || v != "fleet-app-2" {
			t.Fatalf("the chart's ConfigMap changed: %q, %v", v, err)
		}
	})
	if err := mgmt.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
}
