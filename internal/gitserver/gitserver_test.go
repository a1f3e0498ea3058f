package gitserver_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/gitserver"
)

// A repository created on the server is cloned, pushed to without credentials and
// cloned again with the pushed commit, by the real git CLI over smart HTTP.
func TestCreateCloneAndPush(t *testing.T) {
	s, err := gitserver.Start(t.TempDir(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url, err := s.Create("fleet")
	if err != nil {
		t.Fatal(err)
	}
	if url != s.URL+"/fleet.git" {
		t.Errorf("clone URL %q", url)
	}
	if _, err := s.Create("fleet"); !errors.Is(err, gitserver.ErrExists) {
		t.Errorf("creating an existing repository: %v, want ErrExists", err)
	}
	for _, bad := range []string{"", "../x", ".hidden", "a/b", "x.git"} {
		if _, err := s.Create(bad); err == nil {
			t.Errorf("Create(%q) succeeded", bad)
		}
	}

	a := gitopstest.Clone(t, url)
	head := gitopstest.Push(t, a, "main", map[string]string{"deploy/cm.yaml": "kind: ConfigMap\n"})
	b := gitopstest.Clone(t, url)
	if got := gitopstest.Git(t, b, "rev-parse", "HEAD"); got != head {
		t.Errorf("second clone at %s, pushed %s", got, head)
	}
	if _, err := os.Stat(filepath.Join(b, "deploy", "cm.yaml")); err != nil {
		t.Errorf("the pushed file is not in the second clone: %v", err)
	}
	if s.Requests("fleet") == 0 {
		t.Error("no request counted")
	}

	if out, err := exec.Command("git", "ls-remote", s.URL+"/missing.git").CombinedOutput(); err == nil {
		t.Errorf("ls-remote of a missing repository succeeded: %s", out)
	}
}

// A repository created in the server's folder by another process (CreateIn, as
// `tug dev repo create` does) is served at once.
func TestCreateInServedFolder(t *testing.T) {
	root := t.TempDir()
	s, err := gitserver.Start(root, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := gitserver.CreateIn(root, "apps"); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "ls-remote", s.RepoURL("apps")).CombinedOutput(); err != nil {
		t.Errorf("ls-remote of a repository created in the folder: %v: %s", err, out)
	}
	if err := gitserver.CreateIn(root, "apps"); !errors.Is(err, gitserver.ErrExists) {
		t.Errorf("creating it again: %v, want ErrExists", err)
	}
}
