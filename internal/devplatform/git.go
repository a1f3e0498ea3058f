package devplatform

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tugboat-dev/tugboat/internal/gitserver"
)

// The Git server's state files in Options.Dir: its base URL and the folder
// holding its bare repositories, written by Serve, removed on shutdown.
func (o Options) gitURLFile() string  { return filepath.Join(o.Dir, "git.url") }
func (o Options) gitRootFile() string { return filepath.Join(o.Dir, "git.root") }

// startGitServer serves bare repositories from root on loopback and records its
// URL and root in the platform's folder; the returned function stops it.
func startGitServer(o Options, root string) (func(), error) {
	srv, err := gitserver.Start(root, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the Git server: %w", err)
	}
	stop := func() {
		_ = srv.Close()
		_ = os.Remove(o.gitURLFile())
		_ = os.Remove(o.gitRootFile())
	}
	if err := os.WriteFile(o.gitURLFile(), []byte(srv.URL), 0o644); err != nil {
		stop()
		return nil, fmt.Errorf("writing the Git server's URL: %w", err)
	}
	if err := os.WriteFile(o.gitRootFile(), []byte(srv.Root), 0o644); err != nil {
		stop()
		return nil, fmt.Errorf("writing the Git server's folder: %w", err)
	}
	return stop, nil
}

// gitServer is the running platform's Git server: its base URL and folder.
func (o Options) gitServer() (url, root string, err error) {
	rawURL, err := os.ReadFile(o.gitURLFile())
	if err == nil {
		var rawRoot []byte
		if rawRoot, err = os.ReadFile(o.gitRootFile()); err == nil {
			return strings.TrimSpace(string(rawURL)), strings.TrimSpace(string(rawRoot)), nil
		}
	}
	return "", "", fmt.Errorf("the local platform's Git server is unknown (is `tug dev up` running?): %w", err)
}

// CreateRepo creates an empty repository name (branch main) on the running
// platform's Git server and returns its clone URL. It works from any process:
// the repository is made in the server's folder, which the server serves at once.
// An existing repository is an error wrapping gitserver.ErrExists.
func (o Options) CreateRepo(name string) (string, error) {
	url, root, err := o.gitServer()
	if err != nil {
		return "", err
	}
	if err := gitserver.CreateIn(root, name); err != nil {
		return "", err
	}
	return repoURL(url, name), nil
}

func repoURL(base, name string) string { return base + "/" + name + ".git" }

// createOrReuseRepo is CreateRepo, returning the URL of an existing repository too.
func (o Options) createOrReuseRepo(name string) (url string, created bool, err error) {
	url, err = o.CreateRepo(name)
	if errors.Is(err, gitserver.ErrExists) {
		base, _, err := o.gitServer()
		return repoURL(base, name), false, err
	}
	return url, err == nil, err
}

// git runs the git CLI in dir as the tutorial's author, without prompts, and
// returns its trimmed output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-c", "user.name=tug", "-c", "user.email=tug@localhost", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}
