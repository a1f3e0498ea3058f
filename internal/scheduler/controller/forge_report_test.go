package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
)

// giteaIssues serves the issue endpoints of Gitea's REST API (v1) for the
// repository test/gitops-gitea, checking the token, and keeps the issues in memory.
type giteaIssues struct {
	t      *testing.T
	mu     sync.Mutex
	issues []*giteaIssue
}

type giteaIssue struct {
	open     bool
	title    string
	body     string
	comments []string
}

var giteaIssuePath = regexp.MustCompile(`^/api/v1/repos/test/gitops-gitea/issues(?:/(\d+)(/comments)?)?$`)

func (f *giteaIssues) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := giteaIssuePath.FindStringSubmatch(r.URL.Path)
	if r.Header.Get("Authorization") != "token s3cret" || m == nil {
		f.t.Errorf("gitea contract: %s %s %v", r.Method, r.URL, r.Header)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var in map[string]string
	if r.Method != http.MethodGet {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			f.t.Errorf("body: %v", err)
		}
	}
	n, _ := strconv.Atoi(m[1])
	if n > len(f.issues) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && n == 0:
		out := []map[string]any{}
		for i, it := range f.issues {
			if it.open && r.URL.Query().Get("page") == "1" {
				out = append(out, map[string]any{"number": i + 1, "title": it.title, "body": it.body})
			}
		}
		w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && n == 0:
		f.issues = append(f.issues, &giteaIssue{open: true, title: in["title"], body: in["body"]})
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"number": len(f.issues), "html_url": fmt.Sprintf("https://git.example/test/gitops-gitea/issues/%d", len(f.issues))})
	case r.Method == http.MethodGet && m[2] != "":
		out := []map[string]any{}
		for i, c := range f.issues[n-1].comments {
			out = append(out, map[string]any{"id": i + 1, "body": c})
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && m[2] != "":
		f.issues[n-1].comments = append(f.issues[n-1].comments, in["body"])
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":1}`)
	case r.Method == http.MethodPatch && in["state"] == "closed":
		f.issues[n-1].open = false
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{}`)
	default:
		f.t.Errorf("gitea contract: unexpected %s %s %v", r.Method, r.URL, in)
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *giteaIssues) snapshot() []giteaIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]giteaIssue, len(f.issues))
	for i, it := range f.issues {
		out[i] = *it
		out[i].comments = append([]string(nil), it.comments...)
	}
	return out
}

// A target failing to render is reported in an issue on the Gitea forge (direct
// push, forge named in spec.gitea), once; fixing it closes the issue.
func TestFailedTargetsReportedOnGitea(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	fake := &giteaIssues{t: t}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	if err := mgmt.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forge"}, Data: map[string][]byte{"token": []byte("s3cret")}}); err != nil {
		t.Fatal(err)
	}
	broken := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: large-config, labels: {platform-config: \"true\", cluster-type: large}}\ndata: {CLUSTER_NAME: '{{ fail \"broken value\" }}'}\n"
	s := newSeedRepos(t, filepath.Join(githubRoot, "gitops-gitea"), map[string]map[string]string{"dev": {"cluster-types/china-east-2/large/large-config.yaml": broken}})
	// spec.gitea names the forge whatever the host (the suite serves github.com/test/* from local repositories).
	repo := newGitOpsRepo(ns, "dev", s, "https://github.com/test/gitops-gitea", "dev", true)
	repo.Spec.Gitea = &v1alpha1.GiteaForge{APIURL: srv.URL + "/api/v1", TokenSecretRef: &v1alpha1.SecretKeyReference{Name: "forge"}}
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "dev"}
	got := waitStatus(t, key, func(r *v1alpha1.GitOpsRepo) error {
		if c := condition(r, v1alpha1.ConditionReported); c.Status != metav1.ConditionTrue || c.Reason != ReasonErrorsReported {
			return fmt.Errorf("Reported %s %s: %s", c.Status, c.Reason, c.Message)
		}
		return published(s.envCommits["dev"])(r)
	})
	if c := condition(got, v1alpha1.ConditionReported); !strings.Contains(c.Message, "#1") {
		t.Errorf("Reported %+v", c)
	}
	issues := fake.snapshot()
	if len(issues) != 1 || !issues[0].open || !strings.Contains(issues[0].body, "broken value") || !strings.Contains(issues[0].body, "cluster type large") {
		t.Fatalf("issues %+v", issues)
	}

	// Fixed: the issue says so and is closed; nothing else was written.
	fixed := gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{
		"cluster-types/china-east-2/large/large-config.yaml": readSeed(t, "control-plane/dev/cluster-types/china-east-2/large/large-config.yaml")})
	poke(t, key)
	waitStatus(t, key, func(r *v1alpha1.GitOpsRepo) error {
		if c := condition(r, v1alpha1.ConditionReported); c.Status != metav1.ConditionTrue || c.Reason != ReasonNoErrors {
			return fmt.Errorf("Reported %s %s: %s", c.Status, c.Reason, c.Message)
		}
		return ready(fixed)(r)
	})
	issues = fake.snapshot()
	if len(issues) != 1 || issues[0].open || len(issues[0].comments) != 1 || !strings.Contains(issues[0].comments[0], "Fixed") {
		t.Fatalf("issues %+v", issues)
	}
}
