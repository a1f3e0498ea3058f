package testenv

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tugboat-dev/tugboat/internal/gitserver"
)

// StartGitOps readies env for GitOps tests before the manager starts: Flux's
// source-controller with its CRDs (so that the manager watches the sources) and
// a Git server on a loopback port keeping its repositories in env's folder.
func StartGitOps(ctx context.Context, env *Env) (*gitserver.Server, error) {
	if _, err := env.StartSourceController(ctx); err != nil {
		return nil, err
	}
	git, err := gitserver.Start(filepath.Join(env.Dir(), "git"), "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the Git server: %w", err)
	}
	return git, nil
}
