package profiles_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// hooksChart renders <release>-cm and one ConfigMap hook per event:
// <release>-pre-install, <release>-pre-upgrade, <release>-pre-delete.
func hooksChart() map[string]string {
	files := configMapChart("{{ .Values.note | default \"first\" }}")
	for _, event := range []string{"pre-install", "pre-upgrade", "pre-delete"} {
		files["templates/"+event+".yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + event +
			"\n  annotations:\n    helm.sh/hook: " + event + "\ndata:\n  event: " + event + "\n"
	}
	return files
}

// crdChart ships the CRD <plural>.tiny.test in crds/, with shortName short when not empty.
func crdChart(plural, short string) map[string]string {
	names := "    plural: " + plural + "\n    singular: " + strings.TrimSuffix(plural, "s") + "\n    kind: " + strings.ToUpper(plural[:1]) + strings.TrimSuffix(plural[1:], "s") + "\n"
	if short != "" {
		names += "    shortNames: [" + short + "]\n"
	}
	files := configMapChart("crds")
	files["crds/"+plural+".yaml"] = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: " + plural + ".tiny.test\nspec:\n  group: tiny.test\n  scope: Namespaced\n  names:\n" + names +
		"  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n"
	return files
}

// The install, upgrade and uninstall options, each shown by its effect on a
// release in app-1: hooks skipped per operation, the post-render strategy
// leaving hooks unpatched, schema validation skipped, objects taken over, CRDs
// upgraded.
func TestHelmOptions(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	repoDir := packageRepo(t,
		tinyChart(t, tmp, "hooks-app", "0.1.0", hooksChart()),
		tinyChart(t, tmp, "schema-app", "0.1.0", map[string]string{
			"values.schema.json": `{"type":"object","properties":{"replicas":{"type":"integer"}}}`,
			"templates/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  replicas: {{ .Values.replicas | quote }}\n",
		}),
		tinyChart(t, tmp, "plain-app", "0.1.0", configMapChart("helm")),
		tinyChart(t, tmp, "crd-app", "0.1.0", crdChart("gadgets", "")),
		tinyChart(t, tmp, "crd-app", "0.2.0", crdChart("gadgets", "gdg")),
		tinyChart(t, tmp, "crdkeep-app", "0.1.0", crdChart("gizmos", "")),
		tinyChart(t, tmp, "crdkeep-app", "0.2.0", crdChart("gizmos", "gzm")),
		tinyChart(t, tmp, "grow-app", "0.1.0", configMapChart("one")),
		tinyChart(t, tmp, "grow-app", "0.2.0", map[string]string{
			"templates/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  note: two\n",
			"templates/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\ndata:\n  note: helm\n",
		}),
	)
	repo := serveRepo(t, repoDir, chartrepo.ServeOptions{})
	app1 := managedClient(t, "app-1")

	// Objects the takeOwnership cases find in place: on install (<release>-cm),
	// on the upgrade to grow-app 0.2.0 (<release>-extra).
	for name, object := range map[string]string{"helm-opt-own": "-cm", "helm-opt-noown": "-cm", "helm-opt-upown": "-extra", "helm-opt-upnoown": "-extra"} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := app1.Create(ctx, ns); err != nil {
			t.Fatal(err)
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: name + object}, Data: map[string]string{"note": "before"}}
		if err := app1.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}

	patchAll := []libv1beta1.Patch{{
		Target: &libv1beta1.PatchSelector{Kind: "ConfigMap"},
		Patch:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\n  labels:\n    patched: \"yes\"\n",
	}}
	type profileCase struct {
		name    string
		chart   string
		values  string
		patches []libv1beta1.Patch
		opts    libv1beta1.HelmOptions
		fails   []string
	}
	cases := []profileCase{
		{name: "helm-opt-hooks", chart: "hooks-app", patches: patchAll},
		{name: "helm-opt-nohooks-render", chart: "hooks-app", patches: patchAll, opts: libv1beta1.HelmOptions{PostRenderStrategy: "nohooks"}},
		{name: "helm-opt-install-nohooks", chart: "hooks-app", opts: libv1beta1.HelmOptions{InstallOptions: libv1beta1.HelmInstallOptions{DisableHooks: true}}},
		{name: "helm-opt-upgrade-nohooks", chart: "hooks-app", opts: libv1beta1.HelmOptions{UpgradeOptions: libv1beta1.HelmUpgradeOptions{DisableHooks: true}}},
		{name: "helm-opt-uninstall-nohooks", chart: "hooks-app", opts: libv1beta1.HelmOptions{UninstallOptions: libv1beta1.HelmUninstallOptions{DisableHooks: true}}},
		{name: "helm-opt-schema", chart: "schema-app", values: "replicas: many\n", fails: []string{"replicas", "integer"}},
		{name: "helm-opt-schema-skip", chart: "schema-app", values: "replicas: many\n", opts: libv1beta1.HelmOptions{SkipSchemaValidation: true}},
		{name: "helm-opt-noown", chart: "plain-app", fails: []string{"helm-opt-noown-cm", "exists"}},
		{name: "helm-opt-own", chart: "plain-app", opts: libv1beta1.HelmOptions{InstallOptions: libv1beta1.HelmInstallOptions{TakeOwnership: true}}},
		{name: "helm-opt-crds", chart: "crd-app", opts: libv1beta1.HelmOptions{UpgradeOptions: libv1beta1.HelmUpgradeOptions{UpgradeCRDs: true}}},
		{name: "helm-opt-crdkeep", chart: "crdkeep-app"},
		{name: "helm-opt-upown", chart: "grow-app", opts: libv1beta1.HelmOptions{UpgradeOptions: libv1beta1.HelmUpgradeOptions{TakeOwnership: true}}},
		{name: "helm-opt-upnoown", chart: "grow-app"},
	}
	var profiles []*configv1beta1.ClusterProfile
	for _, c := range cases {
		hc := tinyHelmChart(repo.URL, c.chart, c.name, c.name)
		hc.Values = c.values
		opts := c.opts
		hc.Options = &opts
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: c.name}}
		p.Spec.HelmCharts = []libv1beta1.HelmChart{hc}
		p.Spec.Patches = c.patches
		profiles = append(profiles, p)
	}
	createProfilesSelecting(t, "app-1", profiles...)
	for _, c := range cases {
		if c.fails != nil {
			waitSummary(t, c.name, "app-1", helmFailedWith(c.fails...))
		} else {
			waitSummary(t, c.name, "app-1", helmStatus(libv1beta1.FeatureStatusProvisioned))
		}
	}

	cm := func(ns, name string) (*corev1.ConfigMap, error) {
		o := &corev1.ConfigMap{}
		return o, app1.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, o)
	}
	exists := func(ns, name string) bool { _, err := cm(ns, name); return err == nil }
	expect := func(what string, got, want bool) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %t, want %t", what, got, want)
		}
	}
	patched := func(ns, name string) bool {
		o, err := cm(ns, name)
		return err == nil && o.Labels["patched"] == "yes"
	}

	// Hooks ran on install, except with installOptions.disableHooks.
	expect("pre-install hook of helm-opt-hooks", exists("helm-opt-hooks", "helm-opt-hooks-pre-install"), true)
	expect("pre-install hook with installOptions.disableHooks", exists("helm-opt-install-nohooks", "helm-opt-install-nohooks-pre-install"), false)
	expect("chart object with installOptions.disableHooks", exists("helm-opt-install-nohooks", "helm-opt-install-nohooks-cm"), true)
	// postRenderStrategy: combined (default) patches hooks too, nohooks does not.
	expect("hook patched (combined)", patched("helm-opt-hooks", "helm-opt-hooks-pre-install"), true)
	expect("object patched (combined)", patched("helm-opt-hooks", "helm-opt-hooks-cm"), true)
	expect("hook patched (nohooks)", patched("helm-opt-nohooks-render", "helm-opt-nohooks-render-pre-install"), false)
	expect("object patched (nohooks)", patched("helm-opt-nohooks-render", "helm-opt-nohooks-render-cm"), true)
	// skipSchemaValidation: the value the schema refuses is installed.
	if o, err := cm("helm-opt-schema-skip", "helm-opt-schema-skip-cm"); err != nil || o.Data["replicas"] != "many" {
		t.Errorf("helm-opt-schema-skip ConfigMap %v (err %v), want replicas=many", o.Data, err)
	}
	expect("release of the refused schema", exists("helm-opt-schema", "helm-opt-schema-cm"), false)
	// takeOwnership: the existing ConfigMap became the release's.
	if o, err := cm("helm-opt-own", "helm-opt-own-cm"); err != nil || o.Data["note"] != "helm" || o.Annotations["meta.helm.sh/release-name"] != "helm-opt-own" {
		t.Errorf("helm-opt-own ConfigMap %v %v (err %v), want note=helm owned by the release", o.Data, o.Annotations, err)
	}
	if o, err := cm("helm-opt-noown", "helm-opt-noown-cm"); err != nil || o.Data["note"] != "before" {
		t.Errorf("helm-opt-noown ConfigMap %v (err %v), want it untouched", o.Data, err)
	}

	// Upgrades: values change for the hook charts, 0.2.0 for the CRD charts.
	for _, name := range []string{"helm-opt-hooks", "helm-opt-upgrade-nohooks"} {
		updateClusterProfile(t, name, func(p *configv1beta1.ClusterProfile) { p.Spec.HelmCharts[0].Values = "note: second\n" })
	}
	for _, name := range []string{"helm-opt-crds", "helm-opt-crdkeep", "helm-opt-upown", "helm-opt-upnoown"} {
		updateClusterProfile(t, name, func(p *configv1beta1.ClusterProfile) { p.Spec.HelmCharts[0].ChartVersion = "0.2.0" })
	}
	// upgradeOptions.takeOwnership: the upgrade adopts the object in its way.
	waitSummary(t, "helm-opt-upnoown", "app-1", helmFailedWith("helm-opt-upnoown-extra", "exists"))
	testenv.Eventually(t, "helm-opt-upown-extra adopted by the upgrade", func() error {
		o, err := cm("helm-opt-upown", "helm-opt-upown-extra")
		if err != nil {
			return err
		}
		if o.Data["note"] != "helm" || o.Annotations["meta.helm.sh/release-name"] != "helm-opt-upown" {
			return fmt.Errorf("data %v annotations %v", o.Data, o.Annotations)
		}
		return nil
	})
	for _, name := range []string{"helm-opt-hooks", "helm-opt-upgrade-nohooks"} {
		testenv.Eventually(t, name+" upgraded", func() error {
			o, err := cm(name, name+"-cm")
			if err != nil {
				return err
			}
			if o.Data["note"] != "second" {
				return fmt.Errorf("note %q", o.Data["note"])
			}
			return nil
		})
	}
	expect("pre-upgrade hook of helm-opt-hooks", exists("helm-opt-hooks", "helm-opt-hooks-pre-upgrade"), true)
	expect("pre-upgrade hook with upgradeOptions.disableHooks", exists("helm-opt-upgrade-nohooks", "helm-opt-upgrade-nohooks-pre-upgrade"), false)
	crdShortNames := func(name string) func() ([]string, error) {
		return func() ([]string, error) {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := app1.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
				return nil, err
			}
			return crd.Spec.Names.ShortNames, nil
		}
	}
	testenv.Eventually(t, "CRD gadgets.tiny.test upgraded (upgradeCRDs)", func() error {
		names, err := crdShortNames("gadgets.tiny.test")()
		if err != nil {
			return err
		}
		if len(names) != 1 || names[0] != "gdg" {
			return fmt.Errorf("shortNames %v, want [gdg]", names)
		}
		return nil
	})
	waitSummary(t, "helm-opt-crdkeep", "app-1", func(s *configv1beta1.ClusterSummary) error {
		if err := helmStatus(libv1beta1.FeatureStatusProvisioned)(s); err != nil {
			return err
		}
		if rs := s.Status.HelmReleaseSummaries; len(rs) != 1 {
			return errors.New("no release summary")
		}
		return nil
	})
	testenv.Eventually(t, "helm-opt-crdkeep at 0.2.0", func() error {
		r, err := helmReader(t).Release(ctx, env.Cluster("app-1").Config, "helm-opt-crdkeep", "helm-opt-crdkeep")
		if err != nil {
			return err
		}
		if r.ChartVersion != "0.2.0" {
			return fmt.Errorf("chart %s", r.ChartVersion)
		}
		return nil
	})
	if names, err := crdShortNames("gizmos.tiny.test")(); err != nil || len(names) != 0 {
		t.Errorf("CRD gizmos.tiny.test shortNames %v (err %v), want none: without upgradeCRDs Helm leaves CRDs as installed", names, err)
	}

	// Uninstall: pre-delete hooks run, except with uninstallOptions.disableHooks.
	unsetLabels(t, "app-1", map[string]string{"helm-opt-hooks": "", "helm-opt-uninstall-nohooks": ""})
	for _, name := range []string{"helm-opt-hooks", "helm-opt-uninstall-nohooks"} {
		testenv.Eventually(t, name+" uninstalled", func() error {
			if exists(name, name+"-cm") {
				return errors.New("the release's ConfigMap is still there")
			}
			return nil
		})
	}
	expect("pre-delete hook of helm-opt-hooks", exists("helm-opt-hooks", "helm-opt-hooks-pre-delete"), true)
	expect("pre-delete hook with uninstallOptions.disableHooks", exists("helm-opt-uninstall-nohooks", "helm-opt-uninstall-nohooks-pre-delete"), false)
}
