package gitops

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// Branch is what an environment's branch of the platform GitOps repository holds
// at its head: the commit, and the cluster-type folders the scheduler wrote
// (those whose README.md carries scheduler.GeneratedMarker), sorted.
type Branch struct {
	Commit       string
	ClusterTypes []string
}

// ReadBranch fetches the GitOps repository and reads the head of ref's branch. A
// branch that does not exist yet is empty (no commit, no folders).
func ReadBranch(ctx context.Context, cache *Cache, ref v1alpha1.RepositoryReference) (*Branch, error) {
	mirror, err := cache.Fetch(ctx, ref.Repo)
	if err != nil {
		return nil, fmt.Errorf("gitops repo: %w", err)
	}
	b := &Branch{Commit: revParse(ctx, mirror, "refs/heads/"+ref.Branch)}
	if b.Commit == "" {
		return b, nil
	}
	root := scheduler.CleanRepoPath(ref.Path)
	treeish := b.Commit
	if root != "." && root != "" {
		treeish += ":" + root
	}
	out, err := git(ctx, mirror, "ls-tree", "-r", "--name-only", treeish)
	if err != nil {
		if strings.Contains(err.Error(), "Not a valid object name") {
			return b, nil // the folder does not exist yet
		}
		return nil, fmt.Errorf("gitops repo %s branch %s: %w", ref.Repo, ref.Branch, err)
	}
	for _, p := range strings.Split(strings.TrimSpace(out), "\n") {
		dir, file := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if file != scheduler.ReadmeFile || dir == "" || strings.Contains(dir, "/") {
			continue
		}
		readme, err := git(ctx, mirror, "show", b.Commit+":"+path.Join(root, p))
		if err == nil && strings.Contains(readme, scheduler.GeneratedMarker) {
			b.ClusterTypes = append(b.ClusterTypes, dir)
		}
	}
	sort.Strings(b.ClusterTypes)
	return b, nil
}

// commitInRevision finds a commit id in a reconciler's revision string: Flux's
// "dev@sha1:<id>" or "dev/<id>", Argo CD's "<id>".
var commitInRevision = regexp.MustCompile(`[0-9a-f]{40}|[0-9a-f]{64}`)

// RevisionCommit is the commit a Flux or Argo CD revision names, "" when none.
func RevisionCommit(revision string) string {
	all := commitInRevision.FindAllString(revision, -1)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// PromotedCommit reads the control-plane commit a GitOps commit was rendered
// from: the content of scheduler.PromotedCommitFile below ref.Path at commit.
// The mirror is fetched again when it does not have the commit yet. found is
// false when the file is absent (the environment pins no BaseRepo commit).
func PromotedCommit(ctx context.Context, cache *Cache, ref v1alpha1.RepositoryReference, commit string) (promoted string, found bool, err error) {
	mirror, err := cache.Fetch(ctx, ref.Repo)
	if err != nil {
		return "", false, fmt.Errorf("gitops repo: %w", err)
	}
	if revParse(ctx, mirror, commit) == "" {
		return "", false, fmt.Errorf("gitops repo %s has no commit %s", ref.Repo, commit)
	}
	file := path.Join(scheduler.CleanRepoPath(ref.Path), scheduler.PromotedCommitFile)
	out, err := git(ctx, mirror, "show", commit+":"+strings.TrimPrefix(file, "./"))
	if err != nil {
		return "", false, nil
	}
	return strings.TrimSpace(out), true, nil
}
