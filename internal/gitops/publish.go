package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// BranchPrefix starts every branch the scheduler proposes: deployment/<env>/<tree hash>.
const BranchPrefix = "deployment/"

// prMarker is the body marker of the scheduler's own pull requests.
func prMarker(env string) string {
	return "<!-- tugboat-scheduler environment=" + env + " -->"
}

// IsOwnPullRequest reports whether the scheduler opened pr for env: its body
// carries the marker and its head is one of the scheduler's deployment branches.
func IsOwnPullRequest(pr PullRequest, env string) bool {
	return strings.Contains(pr.Body, prMarker(env)) && strings.HasPrefix(pr.Head, BranchPrefix+env+"/")
}

// Publisher writes rendered trees into the platform GitOps repository.
type Publisher struct {
	// Cache rewrites repository URLs (InsteadOf); may be nil.
	Cache *Cache
	// WorkDir holds the temporary checkouts; the system temp folder when empty.
	WorkDir  string
	Identity Identity
	// Forge receives the pull requests; required unless Direct.
	Forge Forge
	// Direct pushes commits straight to the environment branch instead of proposing them.
	Direct bool
}

// Outcome is what Publish did.
type Outcome struct {
	// Changes are the files that differ from the environment branch.
	Changes []scheduler.Change
	// Commit is the commit made, empty when none.
	Commit string
	// Branch is the branch pushed (the environment branch when Direct).
	Branch string
	// AlreadyProposed: the same tree was pushed before on Branch; nothing was committed.
	AlreadyProposed bool
	PullRequest     *PullRequest
	// Superseded are the scheduler's own earlier pull requests closed by this one.
	Superseded []int
}

type checkout struct {
	dir, url, branch, path string
	exists                 bool
}

func (p *Publisher) resolve(url string) string {
	if p.Cache == nil {
		return url
	}
	return p.Cache.Resolve(url)
}

func (p *Publisher) identityArgs() []string {
	id := p.Identity
	if id.Name == "" || id.Email == "" {
		id = DefaultIdentity()
	}
	return []string{"-c", "user.name=" + id.Name, "-c", "user.email=" + id.Email, "-c", "commit.gpgsign=false"}
}

// checkoutBranch clones the branch of the GitOps repository (or starts it when the
// repository has no such branch yet). The caller removes co.dir.
func (p *Publisher) checkoutBranch(ctx context.Context, repo v1alpha1.RepositoryReference) (*checkout, error) {
	if err := os.MkdirAll(p.workDir(), 0o755); err != nil {
		return nil, fmt.Errorf("creating work folder: %w", err)
	}
	dir, err := os.MkdirTemp(p.workDir(), "gitops-")
	if err != nil {
		return nil, fmt.Errorf("creating checkout folder: %w", err)
	}
	co := &checkout{dir: dir, url: p.resolve(repo.Repo), branch: repo.Branch, path: scheduler.CleanRepoPath(repo.Path)}
	heads, err := git(ctx, dir, "ls-remote", "--heads", co.url, "refs/heads/"+co.branch)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("gitops repo: %w", err)
	}
	co.exists = strings.TrimSpace(heads) != ""
	if co.exists {
		_, err = git(ctx, dir, "clone", "-q", "--single-branch", "--branch", co.branch, co.url, ".")
	} else {
		if _, err = git(ctx, dir, "init", "-q"); err == nil {
			_, err = git(ctx, dir, "checkout", "-q", "--orphan", co.branch)
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("gitops repo: %w", err)
	}
	return co, nil
}

func (p *Publisher) workDir() string {
	if p.WorkDir != "" {
		return p.WorkDir
	}
	return os.TempDir()
}

// apply replaces the scheduler's files in the checkout with res's tree and stages
// the result; it returns the staged changes.
func apply(ctx context.Context, co *checkout, res *scheduler.Result) ([]scheduler.Change, error) {
	root := filepath.Join(co.dir, filepath.FromSlash(co.path))
	keep := map[string]bool{}
	for _, k := range res.Keep {
		keep[k] = true
	}
	entries, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("reading %s: %w", co.path, err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == ".git" {
			continue
		}
		readme, err := os.ReadFile(filepath.Join(root, e.Name(), scheduler.ReadmeFile))
		// A top-level folder whose README.md carries the marker is the scheduler's own.
		if err != nil || !strings.Contains(string(readme), scheduler.GeneratedMarker) {
			continue // not ours
		}
		if err := removeOwned(filepath.Join(root, e.Name()), e.Name(), keep); err != nil {
			return nil, err
		}
	}
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(scheduler.PromotedCommitFile))); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("removing %s: %w", scheduler.PromotedCommitFile, err)
	}
	for _, name := range sortedPaths(res.Files) {
		dst := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
		if err := os.WriteFile(dst, res.Files[name], 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	if _, err := git(ctx, co.dir, "add", "-A", "--", co.path); err != nil {
		return nil, err
	}
	out, err := git(ctx, co.dir, "status", "--porcelain=v1", "--no-renames", "-uall", "--", co.path)
	if err != nil {
		return nil, err
	}
	var changes []scheduler.Change
	for _, line := range strings.Split(out, "\n") {
		if len(line) < 4 {
			continue
		}
		kind := scheduler.Modified
		switch line[0] {
		case 'A':
			kind = scheduler.Added
		case 'D':
			kind = scheduler.Deleted
		}
		changes = append(changes, scheduler.Change{Path: strings.TrimSpace(line[3:]), Kind: kind})
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes, nil
}

// removeOwned deletes the files of a scheduler-owned cluster-type folder, except the
// folders of targets that failed to render (kept as they are).
func removeOwned(dir, clusterType string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading %s: %w", clusterType, err)
	}
	for _, e := range entries {
		if keep[clusterType+"/"+e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("removing %s/%s: %w", clusterType, e.Name(), err)
		}
	}
	return nil
}

func sortedPaths(files map[string][]byte) []string {
	out := make([]string, 0, len(files))
	for p := range files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Diff returns the files that publishing res would change on the environment
// branch of repo, without committing anything.
func (p *Publisher) Diff(ctx context.Context, repo v1alpha1.RepositoryReference, res *scheduler.Result) ([]scheduler.Change, error) {
	co, err := p.checkoutBranch(ctx, repo)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(co.dir)
	return apply(ctx, co, res)
}

// Publish writes res into the environment branch of repo. Nothing is committed when
// no file changes. Otherwise the tree is committed and either pushed to the branch
// (Direct) or pushed to deployment/<env>/<tree hash> and proposed as a pull request,
// closing the scheduler's own earlier pull requests for env (never anyone else's).
// A tree already pushed is not committed again; its pull request is only opened
// again when none is open (say, the forge failed after the push).
func (p *Publisher) Publish(ctx context.Context, env string, repo v1alpha1.RepositoryReference, res *scheduler.Result) (*Outcome, error) {
	if !p.Direct && p.Forge == nil {
		return nil, fmt.Errorf("publishing %s: no forge configured for pull requests (use direct push)", env)
	}
	co, err := p.checkoutBranch(ctx, repo)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(co.dir)
	changes, err := apply(ctx, co, res)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Changes: changes}
	if len(changes) == 0 {
		return out, nil
	}
	tree, err := git(ctx, co.dir, "write-tree")
	if err != nil {
		return nil, err
	}
	tree = strings.TrimSpace(tree)
	var open []PullRequest
	if p.Direct {
		out.Branch = co.branch
	} else {
		// Ask the forge first: a forge that cannot be reached stops before anything is pushed.
		if open, err = p.Forge.ListOpenPullRequests(ctx, co.branch); err != nil {
			return nil, fmt.Errorf("listing pull requests: %w", err)
		}
		out.Branch = BranchPrefix + env + "/" + tree[:12]
		heads, err := git(ctx, co.dir, "ls-remote", "--heads", co.url, "refs/heads/"+out.Branch)
		if err != nil {
			return nil, err
		}
		out.AlreadyProposed = strings.TrimSpace(heads) != ""
	}
	if !out.AlreadyProposed {
		args := append(p.identityArgs(), "commit", "-q", "-m", commitMessage(env, changes, res))
		if _, err := git(ctx, co.dir, args...); err != nil {
			return nil, err
		}
		commit, err := git(ctx, co.dir, "rev-parse", "HEAD")
		if err != nil {
			return nil, err
		}
		out.Commit = strings.TrimSpace(commit)
		if _, err := git(ctx, co.dir, "push", "-q", co.url, "HEAD:refs/heads/"+out.Branch); err != nil {
			return nil, fmt.Errorf("pushing %s: %w", out.Branch, err)
		}
	}
	if p.Direct {
		return out, nil
	}
	// The tree is on out.Branch: make sure exactly one open pull request proposes it.
	for _, o := range open {
		if o.Head == out.Branch {
			pr := o
			out.PullRequest = &pr
		}
	}
	if out.PullRequest == nil {
		pr, err := p.Forge.CreatePullRequest(ctx, PullRequest{
			Title: fmt.Sprintf("Tugboat: deploy %s (%s)", env, tree[:12]),
			Head:  out.Branch,
			Base:  co.branch,
			Body:  prBody(env, changes, res),
		})
		if err != nil {
			return out, fmt.Errorf("creating pull request for %s: %w", out.Branch, err)
		}
		out.PullRequest = &pr
	}
	for _, o := range open {
		if o.Head == out.Branch || !IsOwnPullRequest(o, env) {
			continue
		}
		if err := p.Forge.ClosePullRequest(ctx, o.Number); err != nil {
			return out, fmt.Errorf("closing superseded pull request #%d: %w", o.Number, err)
		}
		out.Superseded = append(out.Superseded, o.Number)
	}
	return out, nil
}

func commitMessage(env string, changes []scheduler.Change, res *scheduler.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tugboat: schedule %s\n\n", env)
	fmt.Fprintf(&b, "%d assignment(s), %d file(s) changed", len(res.Assignments), len(changes))
	if len(res.Errors) > 0 {
		fmt.Fprintf(&b, ", %d target(s) failed and kept", len(res.Errors))
	}
	b.WriteString(".\n")
	return b.String()
}

func prBody(env string, changes []scheduler.Change, res *scheduler.Result) string {
	var b strings.Builder
	b.WriteString(prMarker(env) + "\n")
	fmt.Fprintf(&b, "Manifests rendered by the Tugboat scheduler for environment **%s** from the control-plane repository.\n\n", env)
	b.WriteString("Changes:\n")
	for _, c := range changes {
		fmt.Fprintf(&b, "- %s `%s`\n", c.Kind, c.Path)
	}
	if len(res.Errors) > 0 {
		// The errors' marker: ReportErrors comments only when they change.
		b.WriteString(errorsMarkerFor(env, ErrorsHash(res.Errors)) + "\n")
		b.WriteString("\nNot rendered (previous files kept):\n")
		for _, e := range res.Errors {
			fmt.Fprintf(&b, "- %s\n", e.Error())
		}
	}
	return b.String()
}
