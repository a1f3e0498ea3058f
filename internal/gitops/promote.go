package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// PromotionBranchPrefix starts every branch a promotion proposes:
// promotion/<env>/<commit>.
const PromotionBranchPrefix = "promotion/"

// Promotion is one control-plane commit written into an environment's BaseRepo.
type Promotion struct {
	// From and To are the environments; Commit is the control-plane main commit.
	From, To, Commit string
	// ControlPlane is To's branch (and folder) of the control-plane repository.
	ControlPlane v1alpha1.RepositoryReference
}

// PromotionOutcome is what Promote did.
type PromotionOutcome struct {
	// File is the file holding the BaseRepo, relative to the repository root.
	File string
	// Commit is the commit made (empty when the BaseRepo already had the commit).
	Commit string
	// Branch is the branch pushed (the environment branch when direct).
	Branch      string
	PullRequest *PullRequest
}

// Promote writes p.Commit into spec.commit of the BaseRepo on To's branch of the
// control-plane repository (the BaseRepo named after To, else the only one) and
// pushes the change to the branch, or — with a Forge and not Direct — pushes it to
// promotion/<To>/<commit> and proposes it as a pull request. The commit message
// carries the trailers Promoted-Commit and Promoted-From. Nothing is committed when
// the BaseRepo already pins the commit.
func (p *Publisher) Promote(ctx context.Context, pr Promotion) (*PromotionOutcome, error) {
	if !p.Direct && p.Forge == nil {
		return nil, fmt.Errorf("promoting to %s: no forge configured for pull requests (use direct push)", pr.To)
	}
	co, err := p.checkoutBranch(ctx, pr.ControlPlane)
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	defer os.RemoveAll(co.dir)
	if !co.exists {
		return nil, fmt.Errorf("control plane %s has no branch %s", pr.ControlPlane.Repo, co.branch)
	}
	root := filepath.Join(co.dir, filepath.FromSlash(co.path))
	m, err := scheduler.Load(os.DirFS(root), ".")
	if err != nil {
		return nil, fmt.Errorf("control plane %s branch %s: %w", pr.ControlPlane.Repo, co.branch, err)
	}
	var base *v1alpha1.BaseRepo
	for i := range m.BaseRepos {
		if m.BaseRepos[i].Name == pr.To || len(m.BaseRepos) == 1 {
			base = &m.BaseRepos[i]
		}
	}
	if base == nil {
		return nil, fmt.Errorf("control plane %s branch %s: %d BaseRepo objects and none named %s", pr.ControlPlane.Repo, co.branch, len(m.BaseRepos), pr.To)
	}
	where := m.Origins["BaseRepo/"+base.Name] // <file>#<document>
	file, docIndex, err := splitOrigin(where)
	if err != nil {
		return nil, err
	}
	out := &PromotionOutcome{File: filepath.ToSlash(filepath.Join(co.path, file))}
	if base.Spec.Commit == pr.Commit {
		return out, nil
	}
	path := filepath.Join(root, filepath.FromSlash(file))
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", out.File, err)
	}
	edited, err := SetBaseRepoCommit(raw, docIndex, pr.Commit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", out.File, err)
	}
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", out.File, err)
	}
	if _, err := git(ctx, co.dir, "add", "--", out.File); err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("Tugboat: promote %s to %s\n\nEnvironment %s runs control-plane commit %s on every member cluster.\n\nPromoted-Commit: %s\nPromoted-From: %s\n",
		short12(pr.Commit), pr.To, pr.From, pr.Commit, pr.Commit, pr.From)
	if _, err := git(ctx, co.dir, append(p.identityArgs(), "commit", "-q", "-m", msg)...); err != nil {
		return nil, err
	}
	commit, err := git(ctx, co.dir, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	out.Commit = strings.TrimSpace(commit)
	out.Branch = co.branch
	if !p.Direct {
		out.Branch = PromotionBranchPrefix + pr.To + "/" + short12(pr.Commit)
	}
	if _, err := git(ctx, co.dir, "push", "-q", "--force", co.url, "HEAD:refs/heads/"+out.Branch); err != nil {
		return nil, fmt.Errorf("pushing %s: %w", out.Branch, err)
	}
	if p.Direct {
		return out, nil
	}
	open, err := p.Forge.ListOpenPullRequests(ctx, co.branch)
	if err != nil {
		return out, fmt.Errorf("listing pull requests: %w", err)
	}
	for _, o := range open {
		if o.Head == out.Branch {
			pr := o
			out.PullRequest = &pr
			return out, nil
		}
	}
	created, err := p.Forge.CreatePullRequest(ctx, PullRequest{
		Title: fmt.Sprintf("Tugboat: promote %s to %s", short12(pr.Commit), pr.To),
		Head:  out.Branch,
		Base:  co.branch,
		Body: fmt.Sprintf("Environment **%s** runs control-plane commit `%s` on every member cluster; merging this sets the BaseRepo of **%s** to it.\n",
			pr.From, pr.Commit, pr.To),
	})
	if err != nil {
		return out, fmt.Errorf("creating pull request for %s: %w", out.Branch, err)
	}
	out.PullRequest = &created
	return out, nil
}

func short12(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// splitOrigin reads the loader's "<file>#<document index>".
func splitOrigin(where string) (string, int, error) {
	i := strings.LastIndex(where, "#")
	if i < 0 {
		return "", 0, fmt.Errorf("no file recorded for the BaseRepo (%q)", where)
	}
	n, err := strconv.Atoi(where[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("no file recorded for the BaseRepo (%q)", where)
	}
	return where[:i], n, nil
}

var (
	documentSplit = regexp.MustCompile(`(?m)^---[ \t]*(#[^\n]*)?(\n|$)`)
	commitLine    = regexp.MustCompile(`(?m)^([ \t]+)commit:[^\n]*$`)
	specLine      = regexp.MustCompile(`(?m)^spec:[ \t]*\n([ \t]+)`)
)

// SetBaseRepoCommit sets spec.commit of the BaseRepo in document doc of a YAML
// file (counted as the loader counts them: separators with nothing between them
// open no document), editing only that line so that comments and layout stay, or
// adding it under spec when absent.
func SetBaseRepoCommit(raw []byte, doc int, commit string) ([]byte, error) {
	text := string(raw)
	seps := documentSplit.FindAllStringIndex(text, -1)
	type segment struct{ start, end int }
	var docs []segment
	prev := 0
	for _, sep := range append(seps, []int{len(text), len(text)}) {
		if sep[0] > prev {
			docs = append(docs, segment{prev, sep[0]})
		}
		prev = sep[1]
	}
	if doc < 0 || doc >= len(docs) {
		return nil, fmt.Errorf("no YAML document %d", doc)
	}
	start, end := docs[doc].start, docs[doc].end
	part := text[start:end]
	switch {
	case commitLine.MatchString(part):
		part = commitLine.ReplaceAllString(part, "${1}commit: "+commit)
	case specLine.MatchString(part):
		loc := specLine.FindStringSubmatchIndex(part)
		indent := part[loc[2]:loc[3]]
		part = part[:loc[2]] + indent + "commit: " + commit + "\n" + part[loc[2]:]
	default:
		return nil, fmt.Errorf("the BaseRepo has no spec block to set the commit in")
	}
	return []byte(text[:start] + part + text[end:]), nil
}
