package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

type scheduleOptions struct {
	controlPlane string
	environment  string
	cacheDir     string
	repoMap      []string
	gitopsRepo   string
	gitopsBranch string
	// push
	direct      bool
	githubAPI   string
	githubToken string
	forge       forgeFlags // schedule_forge.go
}

// newScheduleCommand is `tug schedule`: render a control-plane repository into the
// platform GitOps repository (render / diff / push).
func newScheduleCommand(g *globalOptions) *cobra.Command {
	o := &scheduleOptions{}
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Render a control-plane repository into the platform GitOps repository",
		Long: `Schedules the deployment targets of the workloads registered in a control-plane
repository onto its cluster types and renders the manifests each cluster type pulls.

--control-plane is a repository URL or local git repository (main plus a branch per
environment), a folder with a sub-folder per environment (main/, dev/, ...), or a
folder holding one environment.`,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.controlPlane, "control-plane", "", "control-plane repository URL or folder (required)")
	f.StringVar(&o.environment, "environment", "dev", "environment to schedule")
	f.StringVar(&o.cacheDir, "cache-dir", "", "where repository mirrors are kept (default: user cache folder)")
	f.StringArrayVar(&o.repoMap, "repo-map", nil, "FROM=TO: read repository URLs starting with FROM from TO instead (repeatable)")

	render := &cobra.Command{
		Use:   "render --control-plane PATH|URL [--environment ENV] --out DIR",
		Short: "Write the rendered files of an environment into a folder (offline, no commit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, _ := cmd.Flags().GetString("out")
			if out == "" {
				return usageError{errors.New("--out is required")}
			}
			return o.render(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), out)
		},
	}
	render.Flags().String("out", "", "folder to write the rendered tree into (required)")

	diff := &cobra.Command{
		Use:   "diff --control-plane PATH|URL [--environment ENV]",
		Short: "List the files a push would change in the GitOps repository",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.diff(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}

	push := &cobra.Command{
		Use:   "push --control-plane PATH|URL [--environment ENV] [--direct]",
		Short: "Commit the rendered tree and propose it as a pull request (or push it directly)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.push(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	push.Flags().BoolVar(&o.direct, "direct", false, "push straight to the environment branch instead of opening a pull request")
	push.Flags().StringVar(&o.githubAPI, "github-api-url", "https://api.github.com", "GitHub REST API root")
	push.Flags().StringVar(&o.githubToken, "github-token", "", "GitHub token for pull requests (default: $GITHUB_TOKEN)")
	o.forge.add(push.Flags())

	for _, c := range []*cobra.Command{diff, push} {
		c.Flags().StringVar(&o.gitopsRepo, "gitops-repo", "", "GitOps repository URL (default: the environment's GitOpsRepo)")
		c.Flags().StringVar(&o.gitopsBranch, "gitops-branch", "", "GitOps branch (default: the environment's GitOpsRepo)")
	}
	var statusNamespace, statusFormat string
	status := &cobra.Command{
		Use:   "status [ENV...] [-n NAMESPACE] [-o table|yaml|json]",
		Short: "Show the Environments of the management cluster: what their member clusters run, compliance and promotion",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return scheduleStatus(cmd.Context(), c, cmd.OutOrStdout(), statusNamespace, statusFormat, args)
		},
	}
	status.Flags().StringVarP(&statusNamespace, "namespace", "n", "", "namespace of the Environments (default: all)")
	addOutputFlag(status, &statusFormat)
	cmd.AddCommand(render, diff, push, status)
	return cmd
}

func (o *scheduleOptions) cache() (*gitops.Cache, error) {
	dir := o.cacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "tugboat", "git")
	}
	c := &gitops.Cache{Dir: dir, InsteadOf: map[string]string{}}
	for _, m := range o.repoMap {
		from, to, ok := strings.Cut(m, "=")
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("--repo-map %q: want FROM=TO", m)
		}
		c.InsteadOf[from] = to
	}
	return c, nil
}

// schedule loads the control plane and schedules the environment. Per-target
// errors are printed to stderr, one per line, and returned as one summary error
// after the caller has used the result.
func (o *scheduleOptions) schedule(ctx context.Context, stderr io.Writer) (*gitops.ControlPlane, *scheduler.Result, *gitops.Cache, error) {
	if o.controlPlane == "" {
		return nil, nil, nil, usageError{errors.New("--control-plane is required")}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cache, err := o.cache()
	if err != nil {
		return nil, nil, nil, err
	}
	cp, err := gitops.LoadControlPlane(ctx, cache, o.controlPlane, o.environment)
	if err != nil {
		return nil, nil, nil, err
	}
	res := scheduler.Schedule(ctx, o.environment, cp.Manifests, gitops.RepoSource{Cache: cache})
	for _, e := range res.Errors {
		fmt.Fprintf(stderr, "error: %v\n", e)
	}
	return cp, res, cache, nil
}

func targetErrors(res *scheduler.Result) error {
	if n := len(res.Errors); n > 0 {
		return fmt.Errorf("environment %s: %d error(s) (listed above); the other targets were rendered", res.Environment, n)
	}
	return nil
}

func (o *scheduleOptions) render(ctx context.Context, stdout, stderr io.Writer, out string) error {
	_, res, _, err := o.schedule(ctx, stderr)
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(res.Files))
	for p := range res.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		dst := filepath.Join(out, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
		if err := os.WriteFile(dst, res.Files[p], 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
	}
	fmt.Fprintf(stdout, "environment %s: %d assignment(s), %d file(s) written to %s\n", o.environment, len(res.Assignments), len(paths), out)
	return targetErrors(res)
}

func (o *scheduleOptions) target(cp *gitops.ControlPlane) (repoURL, branch, path string, err error) {
	repoURL, branch, path = o.gitopsRepo, o.gitopsBranch, "."
	if repoURL == "" || branch == "" {
		r, err := cp.GitOpsRepo()
		if err != nil {
			return "", "", "", err
		}
		if repoURL == "" {
			repoURL = r.Spec.Repo
		}
		if branch == "" {
			branch = r.Spec.Branch
		}
		path = r.Spec.Path
	}
	return repoURL, branch, path, nil
}

// targeted is a schedule's result and the branch of the GitOps repository it goes to.
type targeted struct {
	res             *scheduler.Result
	cache           *gitops.Cache
	repoURL, branch string
	ref             v1alpha1.RepositoryReference
}

// scheduleTargeted schedules the environment and finds where its result goes.
func (o *scheduleOptions) scheduleTargeted(ctx context.Context, stderr io.Writer) (*targeted, error) {
	cp, res, cache, err := o.schedule(ctx, stderr)
	if err != nil {
		return nil, err
	}
	repoURL, branch, path, err := o.target(cp)
	if err != nil {
		return nil, err
	}
	return &targeted{res: res, cache: cache, repoURL: repoURL, branch: branch, ref: gitopsRef(repoURL, branch, path)}, nil
}

func (o *scheduleOptions) diff(ctx context.Context, stdout, stderr io.Writer) error {
	t, err := o.scheduleTargeted(ctx, stderr)
	if err != nil {
		return err
	}
	pub := &gitops.Publisher{Cache: t.cache, Direct: true}
	changes, err := pub.Diff(ctx, t.ref, t.res)
	if err != nil {
		return err
	}
	for _, c := range changes {
		fmt.Fprintf(stdout, "%s\t%s\n", c.Kind, c.Path)
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "environment %s: no changes to %s (branch %s)\n", o.environment, t.repoURL, t.branch)
	}
	return targetErrors(t.res)
}

func (o *scheduleOptions) push(ctx context.Context, stdout, stderr io.Writer) error {
	t, err := o.scheduleTargeted(ctx, stderr)
	if err != nil {
		return err
	}
	pub := &gitops.Publisher{Cache: t.cache, Direct: o.direct}
	forge, err := o.forgeFor(t.repoURL)
	if err != nil {
		return err
	}
	if !o.direct {
		pub.Forge = forge
	}
	outcome, err := pub.Publish(ctx, o.environment, t.ref, t.res)
	if err != nil {
		return err
	}
	switch {
	case len(outcome.Changes) == 0:
		fmt.Fprintf(stdout, "environment %s: no changes, nothing committed\n", o.environment)
	case outcome.AlreadyProposed:
		fmt.Fprintf(stdout, "environment %s: already proposed on %s, nothing committed\n", o.environment, outcome.Branch)
	default:
		fmt.Fprintf(stdout, "environment %s: committed %s on %s (%d file(s) changed)\n", o.environment, short(outcome.Commit), outcome.Branch, len(outcome.Changes))
		if outcome.PullRequest != nil {
			fmt.Fprintf(stdout, "pull request #%d %s\n", outcome.PullRequest.Number, outcome.PullRequest.URL)
		}
		for _, n := range outcome.Superseded {
			fmt.Fprintf(stdout, "closed superseded pull request #%d\n", n)
		}
	}
	if err := o.reportErrors(ctx, stdout, forge, t.res, outcome); err != nil {
		return err
	}
	return targetErrors(t.res)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func gitopsRef(repo, branch, path string) v1alpha1.RepositoryReference {
	return v1alpha1.RepositoryReference{Repo: repo, Branch: branch, Path: path}
}
