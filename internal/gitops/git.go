// Package gitops connects the scheduler to git: it reads the control-plane
// repository (main plus environment branches, or a folder per environment) and
// the application teams' repositories with the git CLI, writes a rendered tree
// into the platform GitOps repository, commits it on deployment/<env>/<tree hash>
// and pushes it, then proposes it as a pull request through a Forge, or pushes
// straight to the environment branch.
package gitops

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"
)

// Identity is the author and committer of the scheduler's commits.
type Identity struct {
	Name  string
	Email string
}

// DefaultIdentity is used when none is configured.
func DefaultIdentity() Identity {
	return Identity{Name: "Tugboat Scheduler", Email: "scheduler@tugboat.invalid"}
}

// git runs the git CLI in dir. Output is stdout; errors carry stderr.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("git %s: %w: %s", strings.Join(redact(args), " "), err, msg)
	}
	return stdout.String(), nil
}

// redact hides credentials embedded in URLs (https://user:token@host).
func redact(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if at := strings.Index(a, "@"); at > 0 && strings.Contains(a[:at], "://") && strings.Contains(a[strings.Index(a, "://")+3:at], ":") {
			out[i] = a[:strings.Index(a, "://")+3] + "***" + a[at:]
			continue
		}
		out[i] = a
	}
	return out
}

// Cache keeps bare mirrors of the repositories read, one per URL, under Dir.
type Cache struct {
	Dir string
	// InsteadOf rewrites repository URLs before use (like git's url.<base>.insteadOf):
	// the longest matching prefix is replaced.
	InsteadOf map[string]string
}

// Resolve applies InsteadOf to a repository URL.
func (c *Cache) Resolve(url string) string {
	best := ""
	for from := range c.InsteadOf {
		if strings.HasPrefix(url, from) && len(from) > len(best) {
			best = from
		}
	}
	if best == "" {
		return url
	}
	return c.InsteadOf[best] + strings.TrimPrefix(url, best)
}

// Fetch brings the mirror of url up to date with every branch of the remote and
// returns the mirror's path.
func (c *Cache) Fetch(ctx context.Context, url string) (string, error) {
	url = c.Resolve(url)
	sum := sha256.Sum256([]byte(url))
	dir := filepath.Join(c.Dir, hex.EncodeToString(sum[:])[:16]+".git")
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("creating mirror of %s: %w", url, err)
		}
		if _, err := git(ctx, dir, "init", "--bare", "-q"); err != nil {
			return "", err
		}
	}
	if _, err := git(ctx, dir, "fetch", "-q", "--prune", "--no-tags", url, "+refs/heads/*:refs/heads/*"); err != nil {
		return "", fmt.Errorf("fetching %s: %w", url, err)
	}
	return dir, nil
}

// revParse returns the commit a revision names in a repository, or "" when it
// does not exist.
func revParse(ctx context.Context, gitDir, rev string) string {
	out, err := git(ctx, gitDir, "rev-parse", "-q", "--verify", rev+"^{commit}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// ReadTree returns the files of folder path at rev of a (bare) repository as an
// in-memory file system.
func ReadTree(ctx context.Context, gitDir, rev, path string) (fs.FS, error) {
	treeish := rev
	if p := strings.Trim(filepath.ToSlash(filepath.Clean("/"+path)), "/"); p != "" {
		treeish = rev + ":" + p
	}
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", treeish)
	cmd.Dir = gitDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reading %s: %w: %s", treeish, err, strings.TrimSpace(stderr.String()))
	}
	files := fstest.MapFS{}
	tr := tar.NewReader(&stdout)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive of %s: %w", treeish, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s in %s: %w", h.Name, treeish, err)
		}
		files[strings.TrimPrefix(h.Name, "./")] = &fstest.MapFile{Data: data, Mode: 0o644, ModTime: time.Unix(0, 0)}
	}
	return files, nil
}
