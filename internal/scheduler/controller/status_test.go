package controller

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// conditionWant is the status and reason a condition should have; an empty
// reason means the condition is absent.
type conditionWant struct {
	status metav1.ConditionStatus
	reason string
}

func checkCondition(t *testing.T, repo *v1alpha1.GitOpsRepo, conditionType string, want conditionWant) {
	t.Helper()
	c := conditions.Get(repo, conditionType)
	switch {
	case want.reason == "" && c != nil:
		t.Errorf("%s = %s/%s, want absent", conditionType, c.Status, c.Reason)
	case want.reason == "":
	case c == nil:
		t.Errorf("%s absent, want %s/%s", conditionType, want.status, want.reason)
	case c.Status != want.status || c.Reason != want.reason || c.ObservedGeneration != repo.Generation:
		t.Errorf("%s = %s/%s at generation %d (%s), want %s/%s at %d", conditionType, c.Status, c.Reason,
			c.ObservedGeneration, c.Message, want.status, want.reason, repo.Generation)
	}
}

// The status written after a render and a publish, for each outcome.
func TestUnitMarkPublished(t *testing.T) {
	cp := &gitops.ControlPlane{EnvCommit: "0123456789abcdef", MainCommit: "fedcba9876543210"}
	ok := &scheduler.Result{Files: map[string][]byte{"a.yaml": nil}}
	failedTarget := &scheduler.Result{Errors: []*scheduler.Error{{ClusterType: "small", DeploymentTarget: "db", Err: errors.New("no such template")}}}
	changed := []scheduler.Change{{Path: "a.yaml"}}
	for _, tc := range []struct {
		name     string
		direct   bool
		res      *scheduler.Result
		outcome  *gitops.Outcome
		err      error
		rendered conditionWant
		pushed   conditionWant
		ready    conditionWant
		pushedTo string // status.lastPushedCommit
		pr       string // status.pullRequest
	}{
		{name: "pushed", direct: true, res: ok, outcome: &gitops.Outcome{Changes: changed, Commit: "c1", Branch: "dev"},
			rendered: conditionWant{metav1.ConditionTrue, ReasonRendered}, pushed: conditionWant{metav1.ConditionTrue, ReasonPushed},
			ready: conditionWant{metav1.ConditionTrue, conditions.Succeeded}, pushedTo: "c1"},
		{name: "up to date", direct: true, res: ok, outcome: &gitops.Outcome{Branch: "dev"},
			rendered: conditionWant{metav1.ConditionTrue, ReasonRendered}, pushed: conditionWant{metav1.ConditionTrue, ReasonUpToDate},
			ready: conditionWant{metav1.ConditionTrue, conditions.Succeeded}, pushedTo: "before"},
		{name: "proposed", res: ok, outcome: &gitops.Outcome{Changes: changed, Commit: "c2", Branch: "tugboat/dev",
			PullRequest: &gitops.PullRequest{Number: 4, URL: "https://example.com/pr/4"}},
			rendered: conditionWant{metav1.ConditionTrue, ReasonRendered}, pushed: conditionWant{metav1.ConditionTrue, ReasonProposed},
			ready: conditionWant{metav1.ConditionTrue, conditions.Succeeded}, pushedTo: "c2", pr: "https://example.com/pr/4"},
		{name: "already proposed", res: ok, outcome: &gitops.Outcome{Changes: changed, Branch: "tugboat/dev", AlreadyProposed: true},
			rendered: conditionWant{metav1.ConditionTrue, ReasonRendered}, pushed: conditionWant{metav1.ConditionTrue, ReasonAlreadyProposed},
			ready: conditionWant{metav1.ConditionTrue, conditions.Succeeded}, pushedTo: "before", pr: "https://example.com/pr/1"},
		{name: "a target failed", direct: true, res: failedTarget, outcome: &gitops.Outcome{Changes: changed, Commit: "c3", Branch: "dev"},
			rendered: conditionWant{metav1.ConditionFalse, ReasonTargetErrors}, pushed: conditionWant{metav1.ConditionTrue, ReasonPushed},
			ready: conditionWant{metav1.ConditionFalse, ReasonTargetErrors}, pushedTo: "c3"},
		{name: "push failed", direct: true, res: ok, err: errors.New("remote rejected"),
			rendered: conditionWant{metav1.ConditionTrue, ReasonRendered}, pushed: conditionWant{metav1.ConditionFalse, ReasonPushFailed},
			ready: conditionWant{metav1.ConditionFalse, ReasonPushFailed}, pushedTo: "before", pr: "https://example.com/pr/1"},
		{name: "forge settings unusable", res: ok, err: &forgeConfigError{errors.New("GitHub token Secret ns/t not found")},
			rendered: conditionWant{metav1.ConditionTrue, ReasonRendered}, pushed: conditionWant{metav1.ConditionFalse, ReasonForgeConfig},
			ready: conditionWant{metav1.ConditionFalse, ReasonForgeConfig}, pushedTo: "before", pr: "https://example.com/pr/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := &v1alpha1.GitOpsRepo{
				ObjectMeta: metav1.ObjectMeta{Name: "dev", Generation: 3},
				Spec:       v1alpha1.GitOpsRepoSpec{RepositoryReference: v1alpha1.RepositoryReference{Branch: "dev"}, Direct: tc.direct},
				Status:     v1alpha1.GitOpsRepoStatus{LastPushedCommit: "before", PullRequest: "https://example.com/pr/1"},
			}
			conditions.MarkTrue(repo, conditions.Stalled, "Old", "left from before")
			markRendered(repo, "dev", cp, tc.res)
			markPublished(repo, "dev", cp, tc.res, tc.outcome, tc.err)

			checkCondition(t, repo, v1alpha1.ConditionRendered, tc.rendered)
			checkCondition(t, repo, v1alpha1.ConditionPushed, tc.pushed)
			checkCondition(t, repo, conditions.Ready, tc.ready)
			checkCondition(t, repo, conditions.Stalled, conditionWant{})
			st := repo.Status
			if st.ObservedGeneration != 3 || st.ObservedCommit != cp.EnvCommit || st.ObservedMainCommit != cp.MainCommit {
				t.Errorf("observed generation %d, commits %s %s", st.ObservedGeneration, st.ObservedCommit, st.ObservedMainCommit)
			}
			if st.LastPushedCommit != tc.pushedTo || st.PullRequest != tc.pr {
				t.Errorf("lastPushedCommit %q, pullRequest %q; want %q, %q", st.LastPushedCommit, st.PullRequest, tc.pushedTo, tc.pr)
			}
			if len(st.TargetErrors) != len(tc.res.Errors) {
				t.Errorf("targetErrors %v, want %d", st.TargetErrors, len(tc.res.Errors))
			}
		})
	}
}

// A control plane that cannot be loaded: nothing rendered, nothing pushed, and
// Ready says why.
func TestUnitMarkLoadFailed(t *testing.T) {
	repo := &v1alpha1.GitOpsRepo{ObjectMeta: metav1.ObjectMeta{Name: "dev", Generation: 2}}
	markLoadFailed(repo, "dev", errors.New("branch dev not found"))
	checkCondition(t, repo, v1alpha1.ConditionRendered, conditionWant{metav1.ConditionFalse, ReasonLoadFailed})
	checkCondition(t, repo, v1alpha1.ConditionPushed, conditionWant{metav1.ConditionFalse, ReasonNotPushed})
	checkCondition(t, repo, conditions.Ready, conditionWant{metav1.ConditionFalse, ReasonLoadFailed})
	if msg := conditions.Get(repo, conditions.Ready).Message; msg != "environment dev: branch dev not found" {
		t.Errorf("Ready message %q", msg)
	}
	if repo.Status.ObservedGeneration != 2 {
		t.Errorf("observed generation %d, want 2", repo.Status.ObservedGeneration)
	}
}

// Messages stay within what the API accepts, however many targets fail.
func TestUnitMessagesAreBounded(t *testing.T) {
	res := &scheduler.Result{}
	for range 2000 {
		res.Errors = append(res.Errors, &scheduler.Error{DeploymentTarget: strings.Repeat("t", 20), Err: errors.New("failed")})
	}
	repo := &v1alpha1.GitOpsRepo{}
	markRendered(repo, "dev", &gitops.ControlPlane{}, res)
	if n := len(conditions.Get(repo, v1alpha1.ConditionRendered).Message); n > maxMessage+len("…") {
		t.Errorf("Rendered message of %d bytes", n)
	}
}

// Only new commits, a new spec or a failed push make the controller render again.
func TestUnitUnchanged(t *testing.T) {
	cp := &gitops.ControlPlane{EnvCommit: "e1", MainCommit: "m1"}
	pushed := func() *v1alpha1.GitOpsRepo {
		repo := &v1alpha1.GitOpsRepo{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
		repo.Status = v1alpha1.GitOpsRepoStatus{ObservedGeneration: 1, ObservedCommit: "e1", ObservedMainCommit: "m1"}
		mark(repo, v1alpha1.ConditionPushed, metav1.ConditionTrue, ReasonPushed, "pushed")
		return repo
	}
	for _, tc := range []struct {
		name   string
		change func(*v1alpha1.GitOpsRepo, *gitops.ControlPlane)
		want   bool
	}{
		{"nothing new", func(*v1alpha1.GitOpsRepo, *gitops.ControlPlane) {}, true},
		{"new environment commit", func(_ *v1alpha1.GitOpsRepo, cp *gitops.ControlPlane) { cp.EnvCommit = "e2" }, false},
		{"new main commit", func(_ *v1alpha1.GitOpsRepo, cp *gitops.ControlPlane) { cp.MainCommit = "m2" }, false},
		{"folders", func(_ *v1alpha1.GitOpsRepo, cp *gitops.ControlPlane) { cp.EnvCommit, cp.MainCommit = "", "" }, false},
		{"new spec", func(r *v1alpha1.GitOpsRepo, _ *gitops.ControlPlane) { r.Generation = 2 }, false},
		{"last push failed", func(r *v1alpha1.GitOpsRepo, _ *gitops.ControlPlane) {
			mark(r, v1alpha1.ConditionPushed, metav1.ConditionFalse, ReasonPushFailed, "rejected")
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, plane := pushed(), *cp
			tc.change(repo, &plane)
			if got := unchanged(repo, &plane); got != tc.want {
				t.Errorf("unchanged = %v, want %v", got, tc.want)
			}
		})
	}
}
