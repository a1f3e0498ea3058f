package gitops

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// render loads one environment of the control plane with git and schedules it.
func render(t *testing.T, s *seedRepos, env string) (*ControlPlane, *scheduler.Result, v1alpha1.RepositoryReference) {
	t.Helper()
	ctx := context.Background()
	cp, err := LoadControlPlane(ctx, s.cache, "https://github.com/kaizen/kalypso-control-plane", env)
	if err != nil {
		t.Fatal(err)
	}
	res := scheduler.Schedule(ctx, env, cp.Manifests, RepoSource{Cache: s.cache})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	repo, err := cp.GitOpsRepo()
	if err != nil {
		t.Fatal(err)
	}
	return cp, res, repo.Spec.RepositoryReference
}

func commitsBetween(t *testing.T, remote, from, to string) int {
	t.Helper()
	out := gitopstest.Git(t, remote, "rev-list", "--count", from+".."+to)
	n := 0
	for _, c := range out {
		n = n*10 + int(c-'0')
	}
	return n
}

func changedFiles(t *testing.T, remote, from, to string) []string {
	t.Helper()
	out := gitopstest.Git(t, remote, "diff", "--name-only", from, to)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestControlPlaneFromGit(t *testing.T) {
	s := newSeedRepos(t)
	cp, res, repo := render(t, s, "dev")
	if cp.MainCommit != s.mainCommit || cp.EnvCommit == "" {
		t.Errorf("commits main %s env %s, want main %s", cp.MainCommit, cp.EnvCommit, s.mainCommit)
	}
	want := []scheduler.Assignment{{ClusterType: "drone", DeploymentTarget: "hello-world-app-functional-test"},
		{ClusterType: "large", DeploymentTarget: "hello-world-app-performance-test"}}
	if !reflect.DeepEqual(res.Assignments, want) {
		t.Fatalf("assignments %+v", res.Assignments)
	}
	if repo.Repo != "https://github.com/kaizen/kalypso-gitops" || repo.Branch != "dev" {
		t.Errorf("gitops repo %+v", repo)
	}
	if got := string(res.Files[scheduler.PromotedCommitFile]); got != s.mainCommit+"\n" {
		t.Errorf("promoted commit %q", got)
	}
	// The same tree read from folders (a folder per environment) gives the same output.
	folder, err := LoadControlPlane(context.Background(), s.cache, filepath.Join(seedDir, "control-plane"), "dev")
	if err != nil {
		t.Fatal(err)
	}
	fres := scheduler.Schedule(context.Background(), "dev", folder.Manifests,
		FolderSource{"https://github.com/kaizen/kalypso-app-src": filepath.Join(seedDir, "app-src")})
	if err := fres.Err(); err != nil {
		t.Fatal(err)
	}
	delete(fres.Files, scheduler.PromotedCommitFile)
	delete(res.Files, scheduler.PromotedCommitFile)
	if !reflect.DeepEqual(fres.Files, res.Files) {
		t.Errorf("folder layout renders differently: %v", scheduler.DiffTrees(res.Files, fres.Files))
	}
}

func TestBaseRepoPinsMain(t *testing.T) {
	s := newSeedRepos(t)
	// A later main commit breaks the flux template; stage stays pinned to the promoted commit.
	gitopstest.Commit(t, s.controlPlane, "main", filepath.Join(seedDir, "control-plane", "main"),
		map[string]string{"templates/arc-flux.yaml": "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: Template\nmetadata: {name: arc-flux}\nspec: {type: reconciler, manifests: [\"{{ fail \\\"unpromoted\\\" }}\"]}\n"})
	cp, _, _ := render(t, s, "stage")
	if cp.MainCommit != s.mainCommit {
		t.Fatalf("main commit %s, want the pinned %s", cp.MainCommit, s.mainCommit)
	}
}

// The tutorial against real repositories, through pull requests.
func TestPublishPullRequests(t *testing.T) {
	ctx := context.Background()
	s := newSeedRepos(t)
	fake, gh := newFakeGitHub(t, s.gitops)
	fake.add(PullRequest{Title: "docs", Head: "feature/docs", Base: "stage", Body: "please review"})
	fake.add(PullRequest{Title: "hand-made", Head: "deployment/stage/handmade", Base: "stage", Body: "a person's branch"})
	pub := &Publisher{Cache: s.cache, WorkDir: t.TempDir(), Forge: gh}

	// 1. First schedule of stage: one commit on deployment/stage/<hash>, one pull request.
	_, res, repo := render(t, s, "stage")
	out, err := pub.Publish(ctx, "stage", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if out.Commit == "" || !strings.HasPrefix(out.Branch, "deployment/stage/") || out.PullRequest == nil {
		t.Fatalf("outcome %+v", out)
	}
	if n := commitsBetween(t, s.gitops, "stage", out.Branch); n != 1 {
		t.Fatalf("%d commits on %s", n, out.Branch)
	}
	if pr := out.PullRequest; pr.Base != "stage" || pr.Head != out.Branch || !IsOwnPullRequest(*pr, "stage") {
		t.Errorf("pull request %+v", pr)
	}
	files := changedFiles(t, s.gitops, "stage", out.Branch)
	for _, f := range []string{"drone/README.md", "drone/hello-world-app-uat-test/platform-config.yaml", "large/hello-world-app-uat-test/reconciler.yaml", ".github/tracking/Promoted_Commit_Id"} {
		if !slices.Contains(files, f) {
			t.Errorf("%s not in the commit: %v", f, files)
		}
	}
	if slices.Contains(files, "README.md") || slices.Contains(files, "docs/notes.md") {
		t.Errorf("files that are not the scheduler's changed: %v", files)
	}

	// 2. Re-running proposes nothing new.
	again, err := pub.Publish(ctx, "stage", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if again.Commit != "" || !again.AlreadyProposed || again.Branch != out.Branch || fake.created != 1 {
		t.Fatalf("re-run: %+v (created %d)", again, fake.created)
	}

	// 3. After the merge there is nothing to do.
	fake.merge(out.PullRequest.Number)
	merged, err := pub.Publish(ctx, "stage", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Commit != "" || len(merged.Changes) != 0 {
		t.Fatalf("after merge: %+v", merged)
	}

	// 4. Changing a stage ConfigMap changes exactly the affected platform-config.yaml, in one commit.
	gitopstest.Commit(t, s.controlPlane, "stage", "", map[string]string{
		"cluster-types/china-north-3/china-north-3-config.yaml": readFile(t, filepath.Join(seedDir, "steps", "china-north-3-config.yaml"))})
	_, res, repo = render(t, s, "stage")
	changed, err := pub.Publish(ctx, "stage", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"drone/hello-world-app-uat-test/platform-config.yaml"}
	if got := changedFiles(t, s.gitops, "stage", changed.Branch); !reflect.DeepEqual(got, want) {
		t.Fatalf("changed files %v, want %v", got, want)
	}
	if !reflect.DeepEqual(changed.Changes, []scheduler.Change{{Path: want[0], Kind: scheduler.Modified}}) {
		t.Errorf("reported changes %+v", changed.Changes)
	}
	if n := commitsBetween(t, s.gitops, "stage", changed.Branch); n != 1 {
		t.Fatalf("%d commits", n)
	}
	if content := gitopstest.Git(t, s.gitops, "show", changed.Branch+":"+want[0]); !strings.Contains(content, "DATABASE_URL: mysql://west-stage:8806/mysql2") {
		t.Errorf("new platform-config:\n%s", content)
	}
	// ... and re-running makes no commit and no pull request.
	before := gitopstest.Git(t, s.gitops, "for-each-ref", "--format=%(refname) %(objectname)")
	rerun, err := pub.Publish(ctx, "stage", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if rerun.Commit != "" || fake.created != 2 || gitopstest.Git(t, s.gitops, "for-each-ref", "--format=%(refname) %(objectname)") != before {
		t.Fatalf("re-run made changes: %+v", rerun)
	}

	// 5. Adding cluster type small supersedes the scheduler's open pull request, and
	// only that one.
	gitopstest.Commit(t, s.controlPlane, "stage", "", map[string]string{
		"cluster-types/china-north-3/small/small-cluster-type.yaml": readFile(t, filepath.Join(seedDir, "steps", "small-cluster-type.yaml"))})
	_, res, repo = render(t, s, "stage")
	small, err := pub.Publish(ctx, "stage", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(small.Superseded, []int{changed.PullRequest.Number}) {
		t.Errorf("superseded %v, want [%d]", small.Superseded, changed.PullRequest.Number)
	}
	var open []string
	for _, pr := range fake.openPulls() {
		open = append(open, pr.Head)
	}
	if !reflect.DeepEqual(open, []string{"feature/docs", "deployment/stage/handmade", small.Branch}) {
		t.Errorf("open pull requests %v", open)
	}
	files = changedFiles(t, s.gitops, "stage", small.Branch)
	for _, f := range []string{"small/README.md", "small/hello-world-app-uat-test/namespace.yaml",
		"small/hello-world-app-uat-test/platform-config.yaml", "small/hello-world-app-uat-test/reconciler.yaml"} {
		if !slices.Contains(files, f) {
			t.Errorf("%s not proposed: %v", f, files)
		}
	}
}

func TestPublishDirect(t *testing.T) {
	ctx := context.Background()
	s := newSeedRepos(t)
	pub := &Publisher{Cache: s.cache, WorkDir: t.TempDir(), Direct: true, Identity: Identity{Name: "Bot", Email: "bot@example.com"}}

	_, res, repo := render(t, s, "dev")
	first := gitopstest.Git(t, s.gitops, "rev-parse", "dev")
	out, err := pub.Publish(ctx, "dev", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if out.Branch != "dev" || out.Commit != gitopstest.Git(t, s.gitops, "rev-parse", "dev") || commitsBetween(t, s.gitops, first, "dev") != 1 {
		t.Fatalf("outcome %+v", out)
	}
	if author := gitopstest.Git(t, s.gitops, "log", "-1", "--format=%an <%ae>", "dev"); author != "Bot <bot@example.com>" {
		t.Errorf("author %s", author)
	}
	for _, p := range []string{"small/", "command-center/"} {
		if ls := gitopstest.Git(t, s.gitops, "ls-tree", "-r", "--name-only", "dev"); strings.Contains(ls, p) {
			t.Errorf("%s rendered in dev:\n%s", p, ls)
		}
	}
	// Byte-identical to the tutorial's files.
	for _, f := range []string{"namespace.yaml", "platform-config.yaml", "reconciler.yaml"} {
		got := gitopstest.Git(t, s.gitops, "show", "dev:drone/hello-world-app-functional-test/"+f)
		want := strings.TrimSpace(readFile(t, filepath.Join(seedDir, "expected", "dev", "drone", "hello-world-app-functional-test", f)))
		if got != want {
			t.Errorf("%s:\n%s\nwant\n%s", f, got, want)
		}
	}

	again, err := pub.Publish(ctx, "dev", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if again.Commit != "" || gitopstest.Git(t, s.gitops, "rev-parse", "dev") != out.Commit {
		t.Fatalf("re-run committed: %+v", again)
	}

	// A policy no longer matching removes that target's files in the same commit.
	gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{"scheduling/kaizen/performance-test-policy.yaml": "# disabled\n"})
	_, res, repo = render(t, s, "dev")
	removed, err := pub.Publish(ctx, "dev", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	got := changedFiles(t, s.gitops, out.Commit, "dev")
	want := []string{"large/README.md", "large/hello-world-app-performance-test/namespace.yaml",
		"large/hello-world-app-performance-test/platform-config.yaml", "large/hello-world-app-performance-test/reconciler.yaml"}
	if !reflect.DeepEqual(got, want) || removed.Commit == "" {
		t.Fatalf("changed %v, want %v", got, want)
	}
	if ls := gitopstest.Git(t, s.gitops, "ls-tree", "--name-only", "dev"); !strings.Contains(ls, "README.md") || !strings.Contains(ls, "docs") {
		t.Errorf("files of others removed: %s", ls)
	}
}

// A target failing to render keeps its previous files; the others still ship.
func TestPublishKeepsFailedTargets(t *testing.T) {
	ctx := context.Background()
	s := newSeedRepos(t)
	pub := &Publisher{Cache: s.cache, WorkDir: t.TempDir(), Direct: true}
	_, res, repo := render(t, s, "dev")
	if _, err := pub.Publish(ctx, "dev", repo, res); err != nil {
		t.Fatal(err)
	}
	start := gitopstest.Git(t, s.gitops, "rev-parse", "dev")
	gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{
		"cluster-types/china-east-2/large/large-config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: large-config, labels: {platform-config: \"true\", cluster-type: large}}\ndata: {CLUSTER_NAME: '{{ fail \"broken\" }}'}\n",
		"configs/dev-config.yaml":                            strings.Replace(readFile(t, filepath.Join(seedDir, "control-plane", "dev", "configs", "dev-config.yaml")), "ENVIRONMENT: Dev", "ENVIRONMENT: Development", 1),
	})
	cp, err := LoadControlPlane(ctx, s.cache, "https://github.com/kaizen/kalypso-control-plane", "dev")
	if err != nil {
		t.Fatal(err)
	}
	res = scheduler.Schedule(ctx, "dev", cp.Manifests, RepoSource{Cache: s.cache})
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "cluster type large") {
		t.Fatalf("errors %v", res.Errors)
	}
	if _, err := pub.Publish(ctx, "dev", repo, res); err != nil {
		t.Fatal(err)
	}
	got := changedFiles(t, s.gitops, start, "dev")
	if !reflect.DeepEqual(got, []string{"drone/hello-world-app-functional-test/platform-config.yaml"}) {
		t.Fatalf("changed %v", got)
	}
}

func TestPublishRequiresForge(t *testing.T) {
	pub := &Publisher{}
	if _, err := pub.Publish(context.Background(), "dev", v1alpha1.RepositoryReference{}, &scheduler.Result{}); err == nil {
		t.Fatal("no error without a forge")
	}
}

func TestLoadControlPlaneErrors(t *testing.T) {
	ctx := context.Background()
	s := newSeedRepos(t)
	tests := []struct{ location, env, want string }{
		{filepath.Join(t.TempDir(), "missing"), "dev", "not a folder"},
		{"https://github.com/kaizen/kalypso-control-plane", "prod", "no branch prod"},
		{s.gitops, "dev", "no main branch"},
	}
	for _, tc := range tests {
		_, err := LoadControlPlane(ctx, s.cache, tc.location, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: err %v, want %q", tc.location, tc.env, err, tc.want)
		}
	}
	// A pinned commit main does not have is an error, not a silent fallback.
	gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{"base-repo.yaml": readFile(t, filepath.Join(seedDir, "control-plane", "dev", "base-repo.yaml"))})
	if _, err := LoadControlPlane(ctx, s.cache, "https://github.com/kaizen/kalypso-control-plane", "dev"); err == nil || !strings.Contains(err.Error(), "pins commit") {
		t.Errorf("err %v", err)
	}

}

// A forge failing after the push: the next run opens the pull request without a new commit.
func TestPublishRecoversFromForgeFailure(t *testing.T) {
	ctx := context.Background()
	s := newSeedRepos(t)
	fake, gh := newFakeGitHub(t, s.gitops)
	pub := &Publisher{Cache: s.cache, WorkDir: t.TempDir(), Forge: gh}
	_, res, repo := render(t, s, "dev")

	fake.failCreate = true
	out, err := pub.Publish(ctx, "dev", repo, res)
	if err == nil || !strings.Contains(err.Error(), "upstream down") {
		t.Fatalf("err %v", err)
	}
	pushed := gitopstest.Git(t, s.gitops, "rev-parse", out.Branch)

	fake.failCreate = false
	again, err := pub.Publish(ctx, "dev", repo, res)
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyProposed || again.Commit != "" || again.PullRequest == nil || again.PullRequest.Head != out.Branch || fake.created != 1 {
		t.Fatalf("outcome %+v, created %d", again, fake.created)
	}
	if gitopstest.Git(t, s.gitops, "rev-parse", out.Branch) != pushed {
		t.Fatal("branch moved")
	}
}
