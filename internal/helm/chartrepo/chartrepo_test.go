package chartrepo_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

const chartsDir = "../../../test/charts"

func TestPackageIndexesEveryChart(t *testing.T) {
	out := t.TempDir()
	archives, err := chartrepo.Package(chartsDir, out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cloudnative-pg-0.27.1.tgz", "cloudnative-pg-0.27.2.tgz", "platform-baseline-0.1.0.tgz"}
	if len(archives) != len(want) {
		t.Fatalf("archives %v, want %v", archives, want)
	}
	for i, a := range archives {
		if filepath.Base(a) != want[i] {
			t.Errorf("archive %d is %s, want %s", i, a, want[i])
		}
	}
	idx, err := repo.LoadIndexFile(filepath.Join(out, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	versions := idx.Entries["cloudnative-pg"]
	if len(versions) != 2 {
		t.Fatalf("index lists %d versions", len(versions))
	}
	for _, v := range versions {
		if len(v.URLs) != 1 || strings.Contains(v.URLs[0], "://") || v.Digest == "" {
			t.Errorf("entry %s: urls %v digest %q (want one relative URL and a digest)", v.Version, v.URLs, v.Digest)
		}
	}
}

func TestPackageErrors(t *testing.T) {
	if _, err := chartrepo.Package(t.TempDir(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no chart") {
		t.Fatalf("empty source: %v", err)
	}
	src := t.TempDir()
	bad := filepath.Join(src, "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "Chart.yaml"), []byte("apiVersion: v2\nname: bad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := chartrepo.Package(src, t.TempDir()); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("chart without version: %v", err)
	}
}

func fetch(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestServeCountsRequests(t *testing.T) {
	s := chartrepo.Start(t, chartsDir)
	code, body := fetch(t, s.URL+"/index.yaml")
	if code != http.StatusOK || !strings.Contains(string(body), "cloudnative-pg-0.27.1.tgz") {
		t.Fatalf("index: %d %s", code, body)
	}
	for range 2 {
		if code, _ := fetch(t, s.URL+"/cloudnative-pg-0.27.1.tgz"); code != http.StatusOK {
			t.Fatalf("archive: %d", code)
		}
	}
	if code, _ := fetch(t, s.URL+"/cloudnative-pg-9.9.9.tgz"); code != http.StatusNotFound {
		t.Fatalf("missing archive: %d", code)
	}
	if got := s.Downloads("cloudnative-pg", "0.27.1"); got != 2 {
		t.Errorf("downloads %d, want 2", got)
	}
	if got := s.Requests("/index.yaml"); got != 1 {
		t.Errorf("index requests %d, want 1", got)
	}
	// The OCI side answers the registry ping and 404s unknown manifests.
	if code, _ := fetch(t, s.URL+"/v2/"); code != http.StatusOK {
		t.Errorf("registry ping: %d", code)
	}
	if code, _ := fetch(t, s.URL+"/v2/charts/cloudnative-pg/manifests/9.9.9"); code != http.StatusNotFound {
		t.Errorf("unknown manifest: %d", code)
	}

	dir := s.Dir
	if want := "oci://" + strings.TrimPrefix(s.URL, "http://") + "/charts"; s.OCIURL != want {
		t.Errorf("OCI URL %s, want %s", s.OCIURL, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("repository folder left behind: %v", err)
	}
}
