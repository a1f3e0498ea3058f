package gitops

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

const largeConfig = "cluster-types/china-east-2/large/large-config.yaml"

func brokenLargeConfig(msg string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: large-config, labels: {platform-config: \"true\", cluster-type: large}}\ndata: {CLUSTER_NAME: '{{ fail \"" + msg + "\" }}'}\n"
}

// Errors reach the forge through the publish path, with real repositories, for
// both forges: in the body of a new pull request, as a comment on the open one
// when they change, as an issue when nothing is proposed, once per error set,
// and the issue is closed when they are fixed. A person's issue is never touched.
func TestReportErrorsThroughPublish(t *testing.T) {
	for _, kind := range []ForgeKind{ForgeGitHub, ForgeGitea} {
		t.Run(string(kind), func(t *testing.T) { testReportErrorsThroughPublish(t, kind) })
	}
}

func testReportErrorsThroughPublish(t *testing.T, kind ForgeKind) {
	ctx := context.Background()
	s := newSeedRepos(t)
	fake, forge := newFakeForge(t, kind, s.gitops)
	person := fake.add(fakeItem{title: "dev fails to render?", body: "a person's question about dev"})
	pub := &Publisher{Cache: s.cache, WorkDir: t.TempDir(), Forge: forge}

	// step publishes dev as `tug schedule push` and the controller do, then reports.
	step := func(name string, wantWrites ...string) (*Outcome, *scheduler.Result, *Report) {
		t.Helper()
		cp, err := LoadControlPlane(ctx, s.cache, "https://github.com/kaizen/kalypso-control-plane", "dev")
		if err != nil {
			t.Fatal(err)
		}
		res := scheduler.Schedule(ctx, "dev", cp.Manifests, RepoSource{Cache: s.cache})
		repo, err := cp.GitOpsRepo()
		if err != nil {
			t.Fatal(err)
		}
		out, err := pub.Publish(ctx, "dev", repo.Spec.RepositoryReference, res)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rep, err := ReportErrors(ctx, forge, "dev", out.PullRequest, res.Errors)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := fake.takeWrites(); !reflect.DeepEqual(got, wantWrites) {
			t.Fatalf("%s: forge writes %q, want %q", name, got, wantWrites)
		}
		return out, res, rep
	}
	breakLarge := func(msg string) {
		gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{largeConfig: brokenLargeConfig(msg)})
	}

	// 1. Everything renders: a pull request, nothing to report.
	out, _, rep := step("first publish", "POST /pulls")
	if rep.Action != ReportNothing || out.PullRequest.Number != 2 {
		t.Fatalf("report %+v, pull request %+v", rep, out.PullRequest)
	}
	fake.merge(2)

	// 2. large breaks while dev-config changes: the new pull request's body lists the error; no comment besides.
	gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{
		largeConfig:               brokenLargeConfig("broken one"),
		"configs/dev-config.yaml": strings.Replace(readFile(t, filepath.Join(seedDir, "control-plane", "dev", "configs", "dev-config.yaml")), "ENVIRONMENT: Dev", "ENVIRONMENT: Development", 1),
	})
	out, res, rep := step("pull request with errors", "POST /pulls")
	if len(res.Errors) != 1 || out.PullRequest.Number != 3 || rep.Action != ReportNothing || rep.Number != 3 {
		t.Fatalf("errors %v, pull request %+v, report %+v", res.Errors, out.PullRequest, rep)
	}
	if body := fake.item(3).body; reportState("dev", body) != ErrorsHash(res.Errors) || !strings.Contains(body, "broken one") {
		t.Fatalf("pull request body:\n%s", body)
	}

	// 3. Another error, same tree (the failed target keeps its files): one comment on the open pull request.
	breakLarge("broken two")
	out, _, rep = step("errors changed", "POST /issues/3/comments")
	if !out.AlreadyProposed || rep.Action != ReportCommented || rep.Number != 3 || !strings.Contains(rep.URL, "/issues/3#issuecomment-") {
		t.Fatalf("outcome %+v, report %+v", out, rep)
	}
	if c := fake.item(3).comments; len(c) != 1 || !strings.Contains(c[0], "broken two") || strings.Contains(c[0], "broken one") || !strings.Contains(c[0], "cluster type large") {
		t.Fatalf("comments %q", c)
	}
	// ... and not again while they stay the same.
	step("same errors on the pull request")

	// 4. Merged; the errors remain and nothing is proposed: an issue, once.
	fake.merge(3)
	out, _, rep = step("errors, nothing proposed", "POST /issues")
	if out.PullRequest != nil || rep.Action != ReportOpened || rep.Number != 4 {
		t.Fatalf("outcome %+v, report %+v", out, rep)
	}
	if it := fake.item(4); it.pull || !strings.Contains(it.title, "environment dev") || !strings.Contains(it.body, "broken two") {
		t.Fatalf("issue %+v", it)
	}
	step("same errors, issue open")

	// 5. The errors change: a comment on the issue.
	breakLarge("broken three")
	_, _, rep = step("errors changed, issue open", "POST /issues/4/comments")
	if rep.Action != ReportCommented || rep.Number != 4 || !strings.Contains(fake.item(4).comments[0], "broken three") {
		t.Fatalf("report %+v, comments %q", rep, fake.item(4).comments)
	}

	// 6. Fixed: large renders again (a new pull request); the issue says so and is closed.
	gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{largeConfig: readFile(t, filepath.Join(seedDir, "control-plane", "dev", largeConfig))})
	out, _, rep = step("fixed", "POST /pulls", "POST /issues/4/comments", "PATCH /issues/4")
	if out.PullRequest == nil || rep.Action != ReportResolved || !reflect.DeepEqual(rep.Closed, []int{4}) {
		t.Fatalf("outcome %+v, report %+v", out, rep)
	}
	if it := fake.item(4); it.open || reportState("dev", it.comments[len(it.comments)-1]) != "resolved" {
		t.Fatalf("issue %+v", it)
	}
	step("fixed, again")

	if it := fake.item(person); !it.open || len(it.comments) != 0 {
		t.Errorf("a person's issue was touched: %+v", it)
	}
}

// Without a git repository: what ReportErrors does on the forge for each state of
// a pull request's conversation, and that environments do not mix.
func TestReportErrorsConversations(t *testing.T) {
	ctx := context.Background()
	fake, forge := newFakeForge(t, ForgeGitea, t.TempDir())
	errs := []*scheduler.Error{
		{Environment: "dev", ClusterType: "large", DeploymentTarget: "a", Err: errors.New("bad template")},
		{Environment: "dev", ClusterType: "drone", DeploymentTarget: "b", Err: errors.New("schema violation")},
	}
	reversed := []*scheduler.Error{errs[1], errs[0]}
	if ErrorsHash(errs) != ErrorsHash(reversed) || ErrorsHash(errs) == ErrorsHash(errs[:1]) {
		t.Fatal("ErrorsHash depends on order or ignores an error")
	}
	stage := fake.add(fakeItem{title: "stage", body: errorsMarkerFor("stage", "0123456789abcdef") + "\nstage errors"})
	pr := PullRequest{Number: fake.add(fakeItem{pull: true, title: "deploy", body: prMarker("dev"), head: "deployment/dev/x", base: "dev"}), Body: prMarker("dev")}

	if rep, err := ReportErrors(ctx, forge, "dev", &pr, errs); err != nil || rep.Action != ReportCommented {
		t.Fatalf("%+v %v", rep, err)
	}
	if rep, err := ReportErrors(ctx, forge, "dev", &pr, reversed); err != nil || rep.Action != ReportNothing {
		t.Fatalf("same set in another order: %+v %v", rep, err)
	}
	if rep, err := ReportErrors(ctx, forge, "dev", &pr, nil); err != nil || rep.Action != ReportResolved || rep.Number != pr.Number || len(rep.Closed) != 0 {
		t.Fatalf("fixed: %+v %v", rep, err)
	}
	if rep, err := ReportErrors(ctx, forge, "dev", &pr, nil); err != nil || rep.Action != ReportNothing {
		t.Fatalf("fixed, again: %+v %v", rep, err)
	}
	want := []string{"POST /issues/2/comments", "POST /issues/2/comments"}
	if got := fake.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
	if it := fake.item(stage); !it.open || len(it.comments) != 0 {
		t.Errorf("stage's issue touched by dev: %+v", it)
	}
	if c := fake.item(pr.Number).comments; !strings.Contains(c[0], "bad template") || !strings.Contains(c[0], "schema violation") || !strings.Contains(c[1], "**Fixed:**") {
		t.Errorf("comments %q", c)
	}
}
