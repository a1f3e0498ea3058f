package gitserver_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/gitserver"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

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

	work := t.TempDir()
	git(t, work, "clone", "-q", url, "a")
	a := filepath.Join(work, "a")
	if err := os.MkdirAll(filepath.Join(a, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, "deploy", "cm.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, a, "add", ".")
	git(t, a, "commit", "-q", "-m", "first")
	git(t, a, "push", "-q", "origin", "HEAD:main")
	head := git(t, a, "rev-parse", "HEAD")

	git(t, work, "clone", "-q", "-b", "main", url, "b")
	if got := git(t, filepath.Join(work, "b"), "rev-parse", "HEAD"); got != head {
		t.Errorf("second clone at %s, pushed %s", got, head)
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
