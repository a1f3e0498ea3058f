package profiles_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
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
