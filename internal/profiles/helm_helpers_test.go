package profiles_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Helpers of the Helm option tests: a tiny chart written into a folder, packaged
// into a repository folder that the test may sign, tamper with and serve.

// tinyChart writes a chart name/version whose templates are files (name →
// content) into a new folder under dir and returns the folder.
func tinyChart(t *testing.T, dir, name, version string, files map[string]string) string {
	t.Helper()
	src := filepath.Join(dir, "src-"+name+"-"+version)
	write := func(rel, content string) {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Chart.yaml", "apiVersion: v2\nname: "+name+"\nversion: "+version+"\n")
	for rel, content := range files {
		write(rel, content)
	}
	return src
}

// configMapChart is a chart whose only object is the ConfigMap <release>-cm with data.note.
func configMapChart(note string) map[string]string {
	return map[string]string{
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  note: " + note + "\n",
	}
}

// packageRepo packages the chart folders into a new repository folder and returns it.
func packageRepo(t *testing.T, srcs ...string) string {
	t.Helper()
	out := t.TempDir()
	for _, src := range srcs {
		parent := t.TempDir()
		if err := os.Rename(src, filepath.Join(parent, filepath.Base(src))); err != nil {
			t.Fatal(err)
		}
		if _, err := chartrepo.Package(parent, out); err != nil {
			t.Fatal(err)
		}
	}
	if err := chartrepo.Reindex(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// serveRepo serves a repository folder until the test ends.
func serveRepo(t *testing.T, dir string, opts chartrepo.ServeOptions) *chartrepo.Server {
	t.Helper()
	s, err := chartrepo.ServeDirWith("127.0.0.1:0", dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tinyHelmChart is the helmCharts entry of chart name 0.1.0 from repoURL as release/ns.
func tinyHelmChart(repoURL, name, release, ns string) libv1beta1.HelmChart {
	return libv1beta1.HelmChart{
		RepositoryURL: repoURL, RepositoryName: "tiny", ChartName: "tiny/" + name, ChartVersion: "0.1.0",
		ReleaseName: release, ReleaseNamespace: ns,
	}
}

// createSecret creates (or replaces) a Secret in the management cluster, deleted at cleanup.
func createSecret(t *testing.T, namespace, name string, data map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: data}
	if err := mgmt.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := mgmt.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), s) })
}

// deployChartsToApp2 creates one ClusterProfile per chart, named as the chart's
// release, each selecting app-2 by a label of its own, and labels app-2.
func deployChartsToApp2(t *testing.T, charts ...libv1beta1.HelmChart) {
	t.Helper()
	labels := map[string]string{}
	for _, hc := range charts {
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: hc.ReleaseName}}
		p.Spec.ClusterSelector.MatchLabels = map[string]string{hc.ReleaseName: "yes"}
		p.Spec.HelmCharts = []libv1beta1.HelmChart{hc}
		if err := mgmt.Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = mgmt.Delete(context.Background(), p) })
		labels[hc.ReleaseName] = "yes"
	}
	setLabels(t, "app-2", labels)
	t.Cleanup(func() { unsetLabels(t, "app-2", labels) })
}

// verifiedChartOutcome waits for the verification outcome of the profile name's
// chart on app-2 (release and namespace both name, as tinyHelmChart makes them):
// with want empty, Provisioned and the chart's ConfigMap carrying note; else
// Failed with every part of want in its message, no release and no ConfigMap.
func verifiedChartOutcome(t *testing.T, name, note string, want []string) {
	t.Helper()
	ctx := context.Background()
	app2 := managedClient(t, "app-2")
	key := types.NamespacedName{Namespace: name, Name: name + "-cm"}
	if want == nil {
		waitSummary(t, name, "app-2", helmStatus(libv1beta1.FeatureStatusProvisioned))
		testenv.Eventually(t, name+": the signed chart's ConfigMap", func() error {
			cm := &corev1.ConfigMap{}
			if err := app2.Get(ctx, key, cm); err != nil {
				return err
			}
			if cm.Data["note"] != note {
				return errors.New("note is " + cm.Data["note"])
			}
			return nil
		})
		return
	}
	waitSummary(t, name, "app-2", helmFailedWith(want...))
	if _, err := helmReader(t).Release(ctx, env.Cluster("app-2").Config, name, name); !errors.Is(err, helm.ErrReleaseNotFound) {
		t.Errorf("%s: release %v, want none installed (err %v)", name, name, err)
	}
	cm := &corev1.ConfigMap{}
	if err := app2.Get(ctx, key, cm); err == nil {
		t.Errorf("%s: the chart's ConfigMap exists (note %q), want nothing installed", name, cm.Data["note"])
	}
}
