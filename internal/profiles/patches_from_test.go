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

// patchesFrom: every data value of the referenced ConfigMap is a patch,
// rendered for the cluster, applied to the objects the profile deploys — a
// policyRefs ConfigMap and the ConfigMap a Helm chart renders (post-renderer).
// Changing the referenced ConfigMap re-deploys; a template that fails or a
// missing reference fails the features naming the entry, keeping what is deployed.
func TestPatchesFromApplyToEveryObjectAndRedeployOnChange(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	policyConfigMap(t, "pf-plain-policy", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pf-plain", "namespace": "default"}, "data": {"a": "b"}}`)
	patches := func(value string) map[string]string {
		patch := func(name string) string {
			return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  labels:\n    from-patch: \"%s\"\n", name, value)
		}
		return map[string]string{"chart.yaml": patch("platform-baseline"), "plain.yaml": patch("pf-plain")}
	}
	source := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "pf-patches"}, Data: patches("{{ .Cluster.metadata.name }}")}
	if err := mgmt.Create(ctx, source); err != nil {
		t.Fatal(err)
	}
	setSource := func(data map[string]string) {
		t.Helper()
		source.Data = data
		if err := mgmt.Update(ctx, source); err != nil {
			t.Fatal(err)
		}
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "patches-from"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "pf-plain-policy"}},
		HelmCharts: []libv1beta1.HelmChart{{RepositoryURL: repo.URL, RepositoryName: "local", ChartName: "local/platform-baseline",
			ChartVersion: "0.1.0", ReleaseName: "baseline", ReleaseNamespace: "patches-from"}},
		PatchesFrom: []libv1beta1.ValueFrom{{Kind: "ConfigMap", Namespace: "default", Name: "pf-patches"}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"patches-from": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"patches-from": "yes"})
	t.Cleanup(func() { setLabels(t, "app-1", map[string]string{"patches-from": ""}) })

	label := func(ns, name string) (string, error) {
		cm := &corev1.ConfigMap{}
		if err := managedClientNoT("app-1").Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cm); err != nil {
			return "", err
		}
		return cm.Labels["from-patch"], nil
	}
	objects := [][2]string{{"patches-from", "platform-baseline"}, {"default", "pf-plain"}}
	waitLabels := func(want string) {
		t.Helper()
		testenv.Eventually(t, "from-patch="+want+" on the chart's and the policy's ConfigMaps", func() error {
			for _, o := range objects {
				if v, err := label(o[0], o[1]); err != nil || v != want {
					return fmt.Errorf("%s/%s: from-patch=%q (%v)", o[0], o[1], v, err)
				}
			}
			return nil
		})
	}
	waitLabels("app-1")

	setSource(patches("v2-{{ .Cluster.metadata.name }}"))
	waitLabels("v2-app-1")

	t.Run("a template that fails names the entry and the key and keeps what is deployed", func(t *testing.T) {
		bad := patches("v3")
		bad["plain.yaml"] = "{{ .Cluster.metadata.name | nosuchfunction }}"
		setSource(bad)
		want := "patchesFrom[0] ConfigMap default/pf-patches key plain.yaml"
		waitSummary(t, "patches-from", "app-1", failedWith(want, "nosuchfunction"))
		waitSummary(t, "patches-from", "app-1", helmFailedWith(want))
		waitEvent(t, "fleet", configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "patches-from", "app-1"), "DeployFailed", want)
		for _, o := range objects {
			if v, err := label(o[0], o[1]); err != nil || v != "v2-app-1" {
				t.Fatalf("%s/%s changed: from-patch=%q (%v)", o[0], o[1], v, err)
			}
		}
	})
	t.Run("a missing reference names it", func(t *testing.T) {
		setSource(patches("v2-{{ .Cluster.metadata.name }}"))
		updateClusterProfile(t, "patches-from", func(p *configv1beta1.ClusterProfile) {
			p.Spec.PatchesFrom = append(p.Spec.PatchesFrom, libv1beta1.ValueFrom{Kind: "Secret", Namespace: "default", Name: "pf-missing"})
		})
		waitSummary(t, "patches-from", "app-1", failedWith("patchesFrom[1]: Secret default/pf-missing not found"))
		// Optional, it is fine.
		updateClusterProfile(t, "patches-from", func(p *configv1beta1.ClusterProfile) { p.Spec.PatchesFrom[1].Optional = true })
		waitSummary(t, "patches-from", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	})
	if err := mgmt.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
}
