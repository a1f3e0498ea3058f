// Package gitopstest builds real git repositories on disk for tests: bare
// remotes and branches holding given files, with the git CLI. Those tests take
// seconds each: under -short (the unit tier) BareRepo skips them.
package gitopstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Git runs git in dir with a test identity and returns its trimmed output.
func Git(t testing.TB, dir string, args ...string) string {
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

// BareRepo creates a bare repository (default branch main) at dir and returns
// dir. Under -short it skips the test.
func BareRepo(t testing.TB, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs git repositories (not in the -short unit tier)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	Git(t, dir, "init", "-q", "--bare", "-b", "main")
	return dir
}

// CopyTree copies the files below src into dst.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Commit makes branch of remote hold src's files (the branch's current files
// when src is empty) plus edits (path → content), as one pushed commit, and
// returns it.
func Commit(t testing.TB, remote, branch, src string, edits map[string]string) string {
	t.Helper()
	work := t.TempDir()
	if Git(t, work, "ls-remote", "--heads", remote, "refs/heads/"+branch) != "" {
		Git(t, work, "clone", "-q", "--single-branch", "--branch", branch, remote, ".")
		if src != "" {
			entries, _ := os.ReadDir(work)
			for _, e := range entries {
				if e.Name() != ".git" {
					os.RemoveAll(filepath.Join(work, e.Name()))
				}
			}
		}
	} else {
		Git(t, work, "init", "-q")
		Git(t, work, "checkout", "-q", "--orphan", branch)
	}
	if src != "" {
		CopyTree(t, src, work)
	}
	for p, c := range edits {
		dst := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Git(t, work, "add", "-A")
	Git(t, work, "commit", "-q", "--allow-empty", "-m", "update "+branch)
	Git(t, work, "push", "-q", remote, "HEAD:refs/heads/"+branch)
	return Git(t, work, "rev-parse", "HEAD")
}
