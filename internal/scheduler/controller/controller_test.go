package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

func newGitOpsRepo(ns, name string, s *seedRepos, repoURL, branch string, direct bool) *v1alpha1.GitOpsRepo {
	return &v1alpha1.GitOpsRepo{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.GitOpsRepoSpec{
			RepositoryReference: v1alpha1.RepositoryReference{Repo: repoURL, Branch: branch, Path: "."},
			ControlPlane:        "file://" + s.controlPlane,
			Environment:         branch,
			Interval:            &metav1.Duration{Duration: time.Hour},
			Direct:              direct,
		},
	}
}

// waitStatus waits until the GitOpsRepo's status satisfies check and returns it.
func waitStatus(t *testing.T, key types.NamespacedName, check func(*v1alpha1.GitOpsRepo) error) *v1alpha1.GitOpsRepo {
	t.Helper()
	var repo *v1alpha1.GitOpsRepo
	testenv.Eventually(t, "status of GitOpsRepo "+key.String(), func() error {
		repo = &v1alpha1.GitOpsRepo{}
		if err := mgmt.Get(context.Background(), key, repo); err != nil {
			return err
		}
		return check(repo)
	})
	return repo
}

func condition(repo *v1alpha1.GitOpsRepo, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(repo.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{Type: typ}
}

// published: the control plane's envCommit was rendered and pushed.
func published(envCommit string) func(*v1alpha1.GitOpsRepo) error {
	return func(r *v1alpha1.GitOpsRepo) error {
		if r.Status.ObservedCommit != envCommit {
			return fmt.Errorf("observed commit %q, want %s", r.Status.ObservedCommit, envCommit)
		}
		if c := condition(r, v1alpha1.ConditionPushed); c.Status != metav1.ConditionTrue {
			return fmt.Errorf("Pushed %s %s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	}
}

func ready(envCommit string) func(*v1alpha1.GitOpsRepo) error {
	return func(r *v1alpha1.GitOpsRepo) error {
		if err := published(envCommit)(r); err != nil {
			return err
		}
		if c := condition(r, conditions.Ready); c.Status != metav1.ConditionTrue {
			return fmt.Errorf("Ready %s %s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	}
}

func poke(t *testing.T, key types.NamespacedName) {
	t.Helper()
	resp, err := http.Post(rec.WebhookURL()+HookPrefix+key.Namespace+"/"+key.Name, "application/json", strings.NewReader(`{"ref":"refs/heads/stage"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %s: %s", resp.Status, body)
	}
}

// Creating the GitOpsRepo pushes dev; looking again at an unchanged control plane
// renders nothing and pushes nothing.
func TestPushOnCreateThenNothingWhenUnchanged(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	s := newSeedRepos(t, "", nil)
	start := gitopstest.Git(t, s.gitops, "rev-parse", "dev")
	repo := newGitOpsRepo(ns, "dev", s, "file://"+s.gitops, "dev", true)
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "dev"}
	got := waitStatus(t, key, ready(s.envCommits["dev"]))

	head := gitopstest.Git(t, s.gitops, "rev-parse", "dev")
	if n := commitCount(t, s.gitops, start, "dev"); n != 1 {
		t.Fatalf("%d commits on dev, want 1", n)
	}
	files := filesAt(t, s.gitops, "dev")
	for _, f := range []string{"README.md", "drone/hello-world-app-functional-test/reconciler.yaml",
		"drone/hello-world-app-functional-test/namespace.yaml", "drone/hello-world-app-functional-test/platform-config.yaml",
		"large/hello-world-app-performance-test/reconciler.yaml", ".github/tracking/Promoted_Commit_Id"} {
		if !slices.Contains(files, f) {
			t.Errorf("dev lacks %s: %v", f, files)
		}
	}
	if got.Status.LastPushedCommit != head || got.Status.ObservedMainCommit != s.mainCommit || len(got.Status.TargetErrors) != 0 {
		t.Errorf("status %+v, head %s", got.Status, head)
	}
	if c := condition(got, v1alpha1.ConditionPushed); c.Reason != ReasonPushed || !strings.Contains(c.Message, head) {
		t.Errorf("Pushed %+v", c)
	}
	if c := condition(got, v1alpha1.ConditionRendered); c.Status != metav1.ConditionTrue || c.Reason != ReasonRendered {
		t.Errorf("Rendered %+v", c)
	}

	// Nothing changed: a reconcile renders nothing, pushes nothing, and polls again after the interval.
	poke(t, key)
	renders := rec.renders.Load()
	res, err := rec.Reconcile(ctx, ctrl.Request{NamespacedName: key})
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != time.Hour {
		t.Errorf("requeue after %v, want the interval", res.RequeueAfter)
	}
	if n := rec.renders.Load(); n != renders {
		t.Errorf("%d render(s) of an unchanged control plane", n-renders)
	}
	if now := gitopstest.Git(t, s.gitops, "rev-parse", "dev"); now != head {
		t.Errorf("dev moved from %s to %s", head, now)
	}
	if refs := gitopstest.Git(t, s.gitops, "for-each-ref", "--format=%(refname)"); strings.Contains(refs, "deployment/") {
		t.Errorf("direct mode pushed other branches: %s", refs)
	}
}

// A stage ConfigMap changes in the control plane; the webhook has it scheduled at
// once: exactly one new commit changing exactly the affected file.
func TestWebhookAfterConfigChange(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	s := newSeedRepos(t, "", nil)
	repo := newGitOpsRepo(ns, "stage", s, "file://"+s.gitops, "stage", true)
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "stage"}
	waitStatus(t, key, ready(s.envCommits["stage"]))
	before := gitopstest.Git(t, s.gitops, "rev-parse", "stage")

	changed := gitopstest.Commit(t, s.controlPlane, "stage", "", map[string]string{
		"cluster-types/china-north-3/china-north-3-config.yaml": readSeed(t, "steps/china-north-3-config.yaml")})
	poke(t, key)
	got := waitStatus(t, key, ready(changed))

	if n := commitCount(t, s.gitops, before, "stage"); n != 1 {
		t.Fatalf("%d new commits on stage, want 1", n)
	}
	want := []string{"drone/hello-world-app-uat-test/platform-config.yaml"}
	if files := changedFiles(t, s.gitops, before, "stage"); !slices.Equal(files, want) {
		t.Errorf("changed %v, want %v", files, want)
	}
	if content := gitopstest.Git(t, s.gitops, "show", "stage:"+want[0]); !strings.Contains(content, "DATABASE_URL: mysql://west-stage:8806/mysql2") {
		t.Errorf("platform-config:\n%s", content)
	}
	if head := gitopstest.Git(t, s.gitops, "rev-parse", "stage"); got.Status.LastPushedCommit != head {
		t.Errorf("lastPushedCommit %s, head %s", got.Status.LastPushedCommit, head)
	}

	// Poking again with nothing new changes nothing.
	renders := rec.renders.Load()
	poke(t, key)
	if _, err := rec.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if n := rec.renders.Load(); n != renders {
		t.Errorf("%d render(s) after a poke without change", n-renders)
	}
	if n := commitCount(t, s.gitops, before, "stage"); n != 1 {
		t.Errorf("%d commits after the second poke", n)
	}
}

func TestWebhookRejects(t *testing.T) {
	ns := namespace(t)
	base := rec.WebhookURL() + HookPrefix
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, ns + "/dev", http.StatusMethodNotAllowed},
		{http.MethodPost, ns + "/missing", http.StatusNotFound},
		{http.MethodPost, "only-one-part", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %s, want %d", c.method, c.path, resp.Status, c.code)
		}
	}
}

// A target whose config fails to render is reported (environment, cluster type,
// target, cause) while the other target is pushed; fixing it ships it.
func TestTargetErrorDoesNotBlockOthers(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	broken := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: large-config, labels: {platform-config: \"true\", cluster-type: large}}\ndata: {CLUSTER_NAME: '{{ fail \"broken value\" }}'}\n"
	s := newSeedRepos(t, "", map[string]map[string]string{"dev": {"cluster-types/china-east-2/large/large-config.yaml": broken}})
	repo := newGitOpsRepo(ns, "dev", s, "file://"+s.gitops, "dev", true)
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "dev"}
	got := waitStatus(t, key, published(s.envCommits["dev"]))

	if len(got.Status.TargetErrors) != 1 {
		t.Fatalf("target errors %+v", got.Status.TargetErrors)
	}
	te := got.Status.TargetErrors[0]
	if te.Environment != "dev" || te.ClusterType != "large" || te.DeploymentTarget != "hello-world-app-performance-test" {
		t.Errorf("target error %+v", te)
	}
	rendered := condition(got, v1alpha1.ConditionRendered)
	for _, msg := range []string{te.Message, rendered.Message} {
		for _, want := range []string{"environment dev", "cluster type large", "deployment target hello-world-app-performance-test", "broken value"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
	}
	if rendered.Status != metav1.ConditionFalse || rendered.Reason != ReasonTargetErrors {
		t.Errorf("Rendered %+v", rendered)
	}
	if c := condition(got, conditions.Ready); c.Status != metav1.ConditionFalse || c.Reason != ReasonTargetErrors {
		t.Errorf("Ready %+v", c)
	}
	files := filesAt(t, s.gitops, "dev")
	if !slices.Contains(files, "drone/hello-world-app-functional-test/reconciler.yaml") {
		t.Errorf("the healthy target was not pushed: %v", files)
	}
	for _, f := range files {
		if strings.HasPrefix(f, "large/hello-world-app-performance-test/") {
			t.Errorf("the failed target was pushed: %s", f)
		}
	}

	// Fixing the ConfigMap ships the target and clears the error.
	fixed := gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{
		"cluster-types/china-east-2/large/large-config.yaml": readSeed(t, "control-plane/dev/cluster-types/china-east-2/large/large-config.yaml")})
	poke(t, key)
	got = waitStatus(t, key, ready(fixed))
	if len(got.Status.TargetErrors) != 0 {
		t.Errorf("target errors remain: %+v", got.Status.TargetErrors)
	}
	if !slices.Contains(filesAt(t, s.gitops, "dev"), "large/hello-world-app-performance-test/reconciler.yaml") {
		t.Errorf("the fixed target was not pushed")
	}
}

// fakeGitHub checks the pull request calls against the GitHub REST contract.
type fakeGitHub struct {
	t      *testing.T
	mu     sync.Mutex
	posted []map[string]string
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("Accept") != "application/vnd.github+json" {
		f.t.Errorf("headers %v", r.Header)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/repos/test/gitops-pr/pulls":
		if q := r.URL.Query(); q.Get("state") != "open" || q.Get("base") != "stage" {
			f.t.Errorf("query %v", q)
		}
		fmt.Fprint(w, "[]")
	case r.Method == http.MethodPost && r.URL.Path == "/repos/test/gitops-pr/pulls":
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			f.t.Errorf("body: %v", err)
		}
		f.posted = append(f.posted, in)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"number": len(f.posted), "title": in["title"], "body": in["body"],
			"html_url": fmt.Sprintf("https://github.example/test/gitops-pr/pull/%d", len(f.posted)),
			"head":     map[string]string{"ref": in["head"]}, "base": map[string]string{"ref": in["base"]}})
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeGitHub) posts() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.posted)
}

// Without direct push the tree goes to deployment/stage/<hash> and is proposed
// through GitHub with the token from the referenced Secret.
func TestPullRequestThroughGitHub(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	s := newSeedRepos(t, filepath.Join(githubRoot, "gitops-pr"), nil)
	fake := &fakeGitHub{t: t}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github"}, Data: map[string][]byte{"token": []byte("s3cret\n")}}
	if err := mgmt.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	repo := newGitOpsRepo(ns, "stage", s, "https://github.com/test/gitops-pr", "stage", false)
	repo.Spec.GitHub = &v1alpha1.GitHubForge{APIURL: srv.URL, TokenSecretRef: &v1alpha1.SecretKeyReference{Name: "github"}}
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "stage"}
	got := waitStatus(t, key, published(s.envCommits["stage"]))

	posts := fake.posts()
	if len(posts) != 1 {
		t.Fatalf("%d pull requests created", len(posts))
	}
	pr := posts[0]
	if pr["base"] != "stage" || !strings.HasPrefix(pr["head"], "deployment/stage/") || pr["title"] == "" || pr["body"] == "" {
		t.Errorf("pull request %v", pr)
	}
	if n := commitCount(t, s.gitops, "stage", pr["head"]); n != 1 {
		t.Errorf("%d commits on %s", n, pr["head"])
	}
	if c := condition(got, v1alpha1.ConditionPushed); c.Reason != ReasonProposed {
		t.Errorf("Pushed %+v", c)
	}
	if got.Status.PullRequest != "https://github.example/test/gitops-pr/pull/1" {
		t.Errorf("pullRequest %q", got.Status.PullRequest)
	}
}

// A missing token Secret is a configuration error in the conditions, and nothing is pushed.
func TestMissingTokenSecret(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	s := newSeedRepos(t, filepath.Join(githubRoot, "gitops-nosecret"), nil)
	repo := newGitOpsRepo(ns, "dev", s, "https://github.com/test/gitops-nosecret", "dev", false)
	repo.Spec.GitHub = &v1alpha1.GitHubForge{APIURL: "http://127.0.0.1:1", TokenSecretRef: &v1alpha1.SecretKeyReference{Name: "absent"}}
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, types.NamespacedName{Namespace: ns, Name: "dev"}, func(r *v1alpha1.GitOpsRepo) error {
		c := condition(r, v1alpha1.ConditionPushed)
		if c.Status != metav1.ConditionFalse || c.Reason != ReasonForgeConfig || !strings.Contains(c.Message, "absent") {
			return fmt.Errorf("Pushed %+v", c)
		}
		if ready := condition(r, conditions.Ready); ready.Status != metav1.ConditionFalse {
			return fmt.Errorf("Ready %+v", ready)
		}
		return nil
	})
	if refs := gitopstest.Git(t, s.gitops, "for-each-ref", "--format=%(refname)"); strings.Contains(refs, "deployment/") {
		t.Errorf("pushed without a forge: %s", refs)
	}
}

// With a secret, hooks must carry GitHub's body signature.
func TestWebhookSignature(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	repo := &v1alpha1.GitOpsRepo{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "signed"},
		// A control plane that does not exist: the controller only reports it.
		Spec: v1alpha1.GitOpsRepoSpec{
			RepositoryReference: v1alpha1.RepositoryReference{Repo: "file:///nonexistent", Branch: "dev", Path: "."},
			ControlPlane:        "file:///nonexistent-control-plane",
		},
	}
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	elected := make(chan struct{})
	close(elected)
	events := make(chan event.GenericEvent, 1)
	secret := []byte("hook-secret")
	srv := httptest.NewServer(&hookHandler{secret: secret, reader: mgmt, events: events, elected: elected})
	t.Cleanup(srv.Close)
	body := `{"ref":"refs/heads/dev"}`
	post := func(signature string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+HookPrefix+ns+"/signed", strings.NewReader(body))
		if signature != "" {
			req.Header.Set(SignatureHeader, signature)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", code)
	}
	if code := post(Sign([]byte("other"), []byte(body))); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if len(events) != 0 {
		t.Fatal("a rejected hook was queued")
	}
	if code := post(Sign(secret, []byte(body))); code != http.StatusAccepted {
		t.Fatalf("signed: %d", code)
	}
	if e := <-events; e.Object.GetNamespace() != ns || e.Object.GetName() != "signed" {
		t.Errorf("queued %s/%s", e.Object.GetNamespace(), e.Object.GetName())
	}
	// The shared controller reports the unreachable control plane.
	waitStatus(t, types.NamespacedName{Namespace: ns, Name: "signed"}, func(r *v1alpha1.GitOpsRepo) error {
		c := condition(r, conditions.Ready)
		if c.Status != metav1.ConditionFalse || c.Reason != ReasonLoadFailed || !strings.Contains(c.Message, "environment signed") {
			return fmt.Errorf("Ready %+v", c)
		}
		return nil
	})
}
