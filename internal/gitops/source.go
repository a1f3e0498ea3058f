package gitops

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// ControlPlane is what the scheduler needs of one environment of a control plane.
type ControlPlane struct {
	Environment string
	// Manifests are main's objects overlaid with the environment's.
	Manifests *scheduler.Manifests
	// MainCommit and EnvCommit are the commits read (empty for plain folders).
	MainCommit string
	EnvCommit  string
}

// GitOpsRepo returns the environment's GitOpsRepo (the one named after the
// environment, else the only one).
func (cp *ControlPlane) GitOpsRepo() (v1alpha1.GitOpsRepo, error) {
	repos := cp.Manifests.GitOpsRepos
	for _, r := range repos {
		if r.Name == cp.Environment {
			return r, nil
		}
	}
	if len(repos) == 1 {
		return repos[0], nil
	}
	return v1alpha1.GitOpsRepo{}, fmt.Errorf("environment %s: %d GitOpsRepo objects and none named after the environment", cp.Environment, len(repos))
}

// IsRemote reports whether a control-plane location is a URL rather than a folder.
func IsRemote(location string) bool {
	return strings.Contains(location, "://") || strings.HasPrefix(location, "git@")
}

func isGitRepo(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		return true
	}
	_, err := os.Stat(filepath.Join(dir, "HEAD"))
	_, err2 := os.Stat(filepath.Join(dir, "refs"))
	return err == nil && err2 == nil // bare repository
}

// LoadControlPlane reads one environment of the control plane at location:
//
//   - a repository URL or a local git repository: the main branch (at the
//     BaseRepo's commit when the environment pins one) overlaid with the
//     environment's branch (Environment.spec.controlPlane.branch and .path,
//     the environment's name by default);
//   - a folder with a sub-folder per environment: <location>/main (when present)
//     overlaid with <location>/<env>;
//   - any other folder: everything in it.
func LoadControlPlane(ctx context.Context, cache *Cache, location, env string) (*ControlPlane, error) {
	if !IsRemote(location) {
		if st, err := os.Stat(location); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("control plane %s: not a folder or repository URL", location)
		}
		if !isGitRepo(location) {
			return loadFolders(location, env)
		}
		abs, err := filepath.Abs(location)
		if err != nil {
			return nil, fmt.Errorf("control plane %s: %w", location, err)
		}
		location = abs
	}
	return loadGit(ctx, cache, location, env)
}

func loadFolders(dir, env string) (*ControlPlane, error) {
	envDir := filepath.Join(dir, env)
	mainDir := filepath.Join(dir, "main")
	if !isDir(envDir) {
		m, err := scheduler.Load(os.DirFS(dir), ".")
		if err != nil {
			return nil, fmt.Errorf("control plane %s: %w", dir, err)
		}
		return &ControlPlane{Environment: env, Manifests: m}, nil
	}
	base := &scheduler.Manifests{}
	if isDir(mainDir) && env != "main" {
		var err error
		if base, err = scheduler.Load(os.DirFS(mainDir), "."); err != nil {
			return nil, fmt.Errorf("control plane %s: %w", mainDir, err)
		}
	}
	over, err := scheduler.Load(os.DirFS(envDir), ".")
	if err != nil {
		return nil, fmt.Errorf("control plane %s: %w", envDir, err)
	}
	return &ControlPlane{Environment: env, Manifests: scheduler.Merge(base, over)}, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func loadGit(ctx context.Context, cache *Cache, url, env string) (*ControlPlane, error) {
	mirror, err := cache.Fetch(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	mainCommit := revParse(ctx, mirror, "refs/heads/main")
	if mainCommit == "" {
		return nil, fmt.Errorf("control plane %s: no main branch", url)
	}
	main, err := loadRev(ctx, mirror, mainCommit, ".")
	if err != nil {
		return nil, fmt.Errorf("control plane %s, branch main: %w", url, err)
	}
	branch, path := env, "."
	for _, e := range main.Environments {
		if e.Name == env {
			if e.Spec.ControlPlane.Branch != "" {
				branch = e.Spec.ControlPlane.Branch
			}
			if e.Spec.ControlPlane.Path != "" {
				path = e.Spec.ControlPlane.Path
			}
		}
	}
	envCommit := revParse(ctx, mirror, "refs/heads/"+branch)
	if envCommit == "" {
		return nil, fmt.Errorf("control plane %s: environment %s: no branch %s", url, env, branch)
	}
	over, err := loadRev(ctx, mirror, envCommit, path)
	if err != nil {
		return nil, fmt.Errorf("control plane %s, branch %s: %w", url, branch, err)
	}
	// The environment may pin main to a promoted commit.
	for _, b := range over.BaseRepos {
		if b.Spec.Commit == "" || b.Spec.Commit == mainCommit {
			continue
		}
		pinned := revParse(ctx, mirror, b.Spec.Commit)
		if pinned == "" {
			return nil, fmt.Errorf("control plane %s: environment %s: BaseRepo %s pins commit %s, which main does not have", url, env, b.Name, b.Spec.Commit)
		}
		mainCommit = pinned
		if main, err = loadRev(ctx, mirror, pinned, scheduler.CleanRepoPath(b.Spec.Path)); err != nil {
			return nil, fmt.Errorf("control plane %s, commit %s: %w", url, pinned, err)
		}
		break
	}
	return &ControlPlane{Environment: env, Manifests: scheduler.Merge(main, over), MainCommit: mainCommit, EnvCommit: envCommit}, nil
}

func loadRev(ctx context.Context, mirror, rev, path string) (*scheduler.Manifests, error) {
	fsys, err := ReadTree(ctx, mirror, rev, scheduler.CleanRepoPath(path))
	if err != nil {
		return nil, err
	}
	return scheduler.Load(fsys, ".")
}

// RepoSource opens the application teams' repositories with git (any URL git
// accepts: https, ssh, file:// or a local path). A URL that resolves (after
// InsteadOf) to a local folder which is not a git repository is read as it is.
type RepoSource struct {
	Cache *Cache
}

// Open implements scheduler.WorkloadSource: the tree of ref.Branch.
func (s RepoSource) Open(ctx context.Context, ref v1alpha1.RepositoryReference) (fs.FS, error) {
	if loc := s.Cache.Resolve(ref.Repo); !IsRemote(loc) && isDir(loc) && !isGitRepo(loc) {
		return os.DirFS(loc), nil
	}
	mirror, err := s.Cache.Fetch(ctx, ref.Repo)
	if err != nil {
		return nil, err
	}
	branch := ref.Branch
	if branch == "" {
		branch = "main"
	}
	commit := revParse(ctx, mirror, "refs/heads/"+branch)
	if commit == "" {
		return nil, fmt.Errorf("%s has no branch %s", ref.Repo, branch)
	}
	return ReadTree(ctx, mirror, commit, ".")
}

// FolderSource opens repositories from local folders: a URL maps to a folder
// (for tests and offline rendering); branches are ignored.
type FolderSource map[string]string

// Open implements scheduler.WorkloadSource.
func (s FolderSource) Open(_ context.Context, ref v1alpha1.RepositoryReference) (fs.FS, error) {
	dir, ok := s[ref.Repo]
	if !ok {
		return nil, fmt.Errorf("no folder for repository %s", ref.Repo)
	}
	return os.DirFS(dir), nil
}
