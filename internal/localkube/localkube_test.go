package localkube

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The version the binaries are looked up under is the one make builds.
func TestKubeVersionIsTheMakefiles(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^KUBE_VERSION\s*\?=\s*(\S+)`).FindSubmatch(raw)
	if m == nil || string(m[1]) != KubeVersion {
		t.Fatalf("Makefile KUBE_VERSION %q, localkube.KubeVersion %q", m, KubeVersion)
	}
}

func TestBinDir(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("TUGBOAT_CACHE", cache)
	t.Setenv("KUBEBUILDER_ASSETS", "")
	t.Chdir(t.TempDir()) // outside the checkout

	if _, err := BinDir(""); err == nil || !strings.Contains(err.Error(), "make testbin") || strings.Contains(err.Error(), "\n") {
		t.Errorf("empty cache: want one line naming `make testbin`, got %v", err)
	}

	bins := filepath.Join(cache, "testbin", KubeVersion)
	if err := os.MkdirAll(bins, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(bins, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := BinDir(""); err != nil || got != bins {
		t.Errorf("filled cache: got %q, %v; want %q", got, err, bins)
	}

	other := t.TempDir()
	if _, err := BinDir(other); err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("explicit folder without binaries: want an error naming it, got %v", err)
	}
	t.Setenv("KUBEBUILDER_ASSETS", bins)
	if got, err := BinDir(""); err != nil || got != bins {
		t.Errorf("$KUBEBUILDER_ASSETS: got %q, %v", got, err)
	}
}
