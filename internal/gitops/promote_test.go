package gitops

import (
	"context"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
)

func stageRef() v1alpha1.RepositoryReference {
	return v1alpha1.RepositoryReference{Repo: "https://github.com/kaizen/kalypso-control-plane", Branch: "stage", Path: "."}
}

// A promotion pushed to the branch pins stage's BaseRepo to the commit (only its
// commit line changes), the scheduler then reads main at that commit, and
// promoting the same commit again commits nothing.
func TestPromoteDirect(t *testing.T) {
	ctx := context.Background()
	s := newSeedRepos(t)
	next := gitopstest.Commit(t, s.controlPlane, "main", "", map[string]string{"workloads/another.yaml": "# nothing yet\n"})
	before := gitopstest.Git(t, s.controlPlane, "show", "stage:base-repo.yaml")

	pub := &Publisher{Cache: s.cache, WorkDir: t.TempDir(), Direct: true}
	out, err := pub.Promote(ctx, Promotion{From: "dev", To: "stage", Commit: next, ControlPlane: stageRef()})
	if err != nil {
		t.Fatal(err)
	}
	if out.File != "base-repo.yaml" || out.Branch != "stage" || out.Commit == "" || out.PullRequest != nil {
		t.Fatalf("outcome %+v", out)
	}
	after := gitopstest.Git(t, s.controlPlane, "show", "stage:base-repo.yaml")
	if want := strings.Replace(before, s.mainCommit, next, 1); after != want {
		t.Fatalf("base-repo.yaml:\n%s\nwant\n%s", after, want)
	}
	msg := gitopstest.Git(t, s.controlPlane, "log", "-1", "--format=%B", "stage")
	for _, want := range []string{"Promoted-Commit: " + next, "Promoted-From: dev"} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message %q lacks %q", msg, want)
		}
	}
	cp, err := LoadControlPlane(ctx, s.cache, "https://github.com/kaizen/kalypso-control-plane", "stage")
	if err != nil {
		t.Fatal(err)
	}
	if cp.MainCommit != next {
		t.Fatalf("stage renders main %s, want the promoted %s", cp.MainCommit, next)
	}

	head := gitopstest.Git(t, s.controlPlane, "rev-parse", "stage")
	again, err := pub.Promote(ctx, Promotion{From: "dev", To: "stage", Commit: next, ControlPlane: stageRef()})
	if err != nil || again.Commit != "" {
		t.Fatalf("promoting again: %+v %v", again, err)
	}
	if got := gitopstest.Git(t, s.controlPlane, "rev-parse", "stage"); got != head {
		t.Fatal("promoting the same commit again pushed")
	}
}

// With a forge, the promotion is proposed: stage keeps its commit until the pull
// request is merged; proposing again finds the open one.
func TestPromotePullRequest(t *testing.T) {
	ctx := context.Background()
	s := newSeedRepos(t)
	next := gitopstest.Commit(t, s.controlPlane, "main", "", map[string]string{"workloads/another.yaml": "# nothing yet\n"})
	fake, gh := newFakeGitHub(t, s.controlPlane)
	pub := &Publisher{Cache: s.cache, WorkDir: t.TempDir(), Forge: gh}
	out, err := pub.Promote(ctx, Promotion{From: "dev", To: "stage", Commit: next, ControlPlane: stageRef()})
	if err != nil {
		t.Fatal(err)
	}
	if out.PullRequest == nil || out.Branch != PromotionBranchPrefix+"stage/"+next[:12] || out.PullRequest.Base != "stage" {
		t.Fatalf("outcome %+v", out)
	}
	if got := gitopstest.Git(t, s.controlPlane, "show", "stage:base-repo.yaml"); !strings.Contains(got, s.mainCommit) {
		t.Fatalf("stage changed before the merge:\n%s", got)
	}
	again, err := pub.Promote(ctx, Promotion{From: "dev", To: "stage", Commit: next, ControlPlane: stageRef()})
	if err != nil || again.PullRequest == nil || again.PullRequest.Number != out.PullRequest.Number || len(fake.openPulls()) != 1 {
		t.Fatalf("proposing again: %+v %v (open %d)", again, err, len(fake.openPulls()))
	}
	fake.merge(out.PullRequest.Number)
	if got := gitopstest.Git(t, s.controlPlane, "show", "stage:base-repo.yaml"); !strings.Contains(got, "commit: "+next) {
		t.Fatalf("after the merge:\n%s", got)
	}
}
