package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// forgeFlags choose the forge of `tug schedule push` beside --github-api-url and
// --github-token, and whether failed targets are reported there.
type forgeFlags struct {
	kind         string
	giteaAPI     string
	giteaToken   string
	reportErrors bool
}

func (f *forgeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.kind, "forge", "", "forge of the GitOps repository: github, gitea or forgejo (default: from its host: gitea for codeberg.org and hosts naming gitea or forgejo, github otherwise)")
	fs.StringVar(&f.giteaAPI, "gitea-api-url", "", "Gitea/Forgejo REST API root (default: <scheme>://<host>/api/v1 of the GitOps repository)")
	fs.StringVar(&f.giteaToken, "gitea-token", "", "Gitea/Forgejo token for pull requests and issues (default: $GITEA_TOKEN)")
	fs.BoolVar(&f.reportErrors, "report-errors", true, "report targets that fail to render on the forge: in the pull request, else an issue (closed once fixed); with --direct only when --forge is given")
}

// forgeFor returns the forge holding repoURL, or nil with --direct and no --forge.
func (o *scheduleOptions) forgeFor(repoURL string) (gitops.ForgeAPI, error) {
	kind, err := gitops.ParseForgeKind(o.forge.kind)
	if err != nil {
		return nil, usageError{fmt.Errorf("--forge: %w", err)}
	}
	if kind == "" {
		if o.direct {
			return nil, nil
		}
		kind = gitops.DetectForge(repoURL)
	}
	opts := gitops.ForgeOptions{Kind: kind}
	switch kind {
	case gitops.ForgeGitHub:
		opts.APIURL, opts.Token = o.githubAPI, firstNonEmpty(o.githubToken, os.Getenv("GITHUB_TOKEN"))
	case gitops.ForgeGitea:
		opts.APIURL, opts.Token = o.forge.giteaAPI, firstNonEmpty(o.forge.giteaToken, os.Getenv("GITEA_TOKEN"))
	}
	forge, err := gitops.NewForge(repoURL, opts)
	if err != nil {
		return nil, fmt.Errorf("pull requests need a GitHub or Gitea/Forgejo repository (or use --direct): %w", err)
	}
	return forge, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// reportErrors tells the forge about the targets of res that failed (or that
// they are fixed) and prints what it did.
func (o *scheduleOptions) reportErrors(ctx context.Context, stdout io.Writer, forge gitops.ForgeAPI, res *scheduler.Result, outcome *gitops.Outcome) error {
	if forge == nil || !o.forge.reportErrors {
		return nil
	}
	rep, err := gitops.ReportErrors(ctx, forge, o.environment, outcome.PullRequest, res.Errors)
	if err != nil {
		return fmt.Errorf("reporting to the forge: %w", err)
	}
	switch rep.Action {
	case gitops.ReportOpened:
		fmt.Fprintf(stdout, "errors reported in issue #%d %s\n", rep.Number, rep.URL)
	case gitops.ReportCommented:
		fmt.Fprintf(stdout, "errors reported in a comment on #%d %s\n", rep.Number, rep.URL)
	case gitops.ReportResolved:
		fmt.Fprintf(stdout, "errors fixed: said so on #%d", rep.Number)
		for _, n := range rep.Closed {
			fmt.Fprintf(stdout, ", closed issue #%d", n)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
