package gitopstest

import (
	"os"
	"path/filepath"
	"testing"
)

// Clone clones url into a new temporary folder and returns that working copy.
func Clone(t testing.TB, url string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	Git(t, filepath.Dir(work), "clone", "-q", url, work)
	return work
}

// Push writes files (path → content) and removes paths in the working copy work,
// commits everything as one commit, pushes it to origin's branch and returns it.
func Push(t testing.TB, work, branch string, write map[string]string, remove ...string) string {
	t.Helper()
	for p, content := range write {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range remove {
		Git(t, work, "rm", "-q", p)
	}
	Git(t, work, "add", "-A")
	Git(t, work, "commit", "-q", "--allow-empty", "-m", "update "+branch)
	Git(t, work, "push", "-q", "origin", "HEAD:refs/heads/"+branch)
	return Git(t, work, "rev-parse", "HEAD")
}
