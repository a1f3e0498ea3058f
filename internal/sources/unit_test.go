package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/testenv"
)

func sha256Digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestUnitVerifyDigest(t *testing.T) {
	raw := []byte("artifact")
	for _, tc := range []struct {
		digest string
		want   string // "" for success
	}{
		{"", ""},
		{sha256Digest(raw), ""},
		{"sha256:" + strings.Repeat("0", 64), "digest mismatch"},
		{"md5:abc", "unsupported algorithm"},
		{"nocolon", "not algorithm:hex"},
	} {
		err := verifyDigest(tc.digest, raw)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("verifyDigest(%q) = %v, want %q", tc.digest, err, tc.want)
		}
	}
}

func TestUnitUntar(t *testing.T) {
	files, err := untar(testenv.TarGz(t, map[string]string{"./deploy/a.yaml": "a", "deploy/sub/b.yaml": "b", "README.md": "r"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || string(files["deploy/a.yaml"]) != "a" || string(files["deploy/sub/b.yaml"]) != "b" {
		t.Errorf("files %v", files)
	}
	if _, err := untar(testenv.TarGz(t, map[string]string{"../escape.yaml": "x"})); err == nil || !strings.Contains(err.Error(), "leaves the archive") {
		t.Errorf("an entry leaving the archive: %v", err)
	}
	if _, err := untar([]byte("plain text")); err == nil || !strings.Contains(err.Error(), "gzipped tarball") {
		t.Errorf("not a tarball: %v", err)
	}
}

func TestUnitSnapshotFiles(t *testing.T) {
	s := &Snapshot{
		Source:   Ref{Kind: GitRepository, Namespace: "flux-system", Name: "fleet"},
		Artifact: Artifact{Revision: "main@sha1:abc"},
		files:    map[string][]byte{"deploy/a.yaml": []byte("a"), "deploy/sub/b.yaml": []byte("b"), "deployments/c.yaml": []byte("c"), "top.yaml": []byte("t")},
	}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"deploy", []string{"a.yaml", "sub/b.yaml"}},
		{"./deploy/", []string{"a.yaml", "sub/b.yaml"}},
		{"/deploy/sub", []string{"b.yaml"}},
		{"deploy/a.yaml", []string{"a.yaml"}},
		{"", []string{"deploy/a.yaml", "deploy/sub/b.yaml", "deployments/c.yaml", "top.yaml"}},
	} {
		got, err := s.Files(tc.dir)
		if err != nil {
			t.Errorf("Files(%q): %v", tc.dir, err)
			continue
		}
		if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, tc.want) {
			t.Errorf("Files(%q) = %v, want %v", tc.dir, names, tc.want)
		}
	}
	_, err := s.Files("missing")
	if err == nil || !strings.Contains(err.Error(), `GitRepository flux-system/fleet revision main@sha1:abc: path "missing" not found`) {
		t.Errorf("missing path: %v", err)
	}
}
