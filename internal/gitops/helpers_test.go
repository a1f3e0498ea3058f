package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
)

const seedDir = "../../examples/kalypso-tutorial"

func readFile(t *testing.T, p string) string {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// seedRepos creates the tutorial's repositories as bare remotes: the control plane
// (main, dev, stage; BaseRepo pinned to the real main commit), the app source and
// the platform GitOps repository (dev and stage with a README that is not the
// scheduler's). The cache rewrites the tutorial's GitHub URLs to them.
type seedRepos struct {
	controlPlane, appSrc, gitops string
	mainCommit                   string
	cache                        *Cache
}

func newSeedRepos(t *testing.T) *seedRepos {
	t.Helper()
	s := &seedRepos{controlPlane: gitopstest.BareRepo(t, filepath.Join(t.TempDir(), "remote.git")), appSrc: gitopstest.BareRepo(t, filepath.Join(t.TempDir(), "remote.git")), gitops: gitopstest.BareRepo(t, filepath.Join(t.TempDir(), "remote.git"))}
	s.mainCommit = gitopstest.Commit(t, s.controlPlane, "main", filepath.Join(seedDir, "control-plane", "main"), nil)
	for _, env := range []string{"dev", "stage"} {
		base := strings.Replace(readFile(t, filepath.Join(seedDir, "control-plane", env, "base-repo.yaml")),
			"3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b", s.mainCommit, 1)
		gitopstest.Commit(t, s.controlPlane, env, filepath.Join(seedDir, "control-plane", env), map[string]string{"base-repo.yaml": base})
		gitopstest.Commit(t, s.gitops, env, "", map[string]string{"README.md": "Platform GitOps repository, " + env + ".\n", "docs/notes.md": "by a person\n"})
	}
	gitopstest.Commit(t, s.appSrc, "main", filepath.Join(seedDir, "app-src"), nil)
	s.cache = &Cache{Dir: t.TempDir(), InsteadOf: map[string]string{
		"https://github.com/kaizen/kalypso-app-src":       "file://" + s.appSrc,
		"https://github.com/kaizen/kalypso-gitops":        "file://" + s.gitops,
		"https://github.com/kaizen/kalypso-control-plane": "file://" + s.controlPlane,
	}}
	return s
}

// fakeGitHub serves the pull request endpoints of the GitHub REST API for one
// repository and fails the test on any request outside the contract.
type fakeGitHub struct {
	t      *testing.T
	owner  string
	repo   string
	token  string
	remote string // bare repo: created pull requests must name a pushed head

	mu         sync.Mutex
	failCreate bool // answer pull request creation with 502 Bad Gateway
	pulls      []*fakePull
	created    int
	closed     []int
}

type fakePull struct {
	PullRequest
	open bool
}

func (f *fakeGitHub) add(pr PullRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pr.Number = len(f.pulls) + 1
	f.pulls = append(f.pulls, &fakePull{PullRequest: pr, open: true})
}

func (f *fakeGitHub) openPulls() []PullRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []PullRequest
	for _, p := range f.pulls {
		if p.open {
			out = append(out, p.PullRequest)
		}
	}
	return out
}

func (f *fakeGitHub) merge(number int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pulls[number-1]
	p.open = false
	gitopstest.Git(f.t, f.remote, "update-ref", "refs/heads/"+p.Base, "refs/heads/"+p.Head)
}

func pullJSON(p PullRequest) map[string]any {
	return map[string]any{"number": p.Number, "title": p.Title, "body": p.Body,
		"html_url": fmt.Sprintf("https://github.example/pull/%d", p.Number),
		"head":     map[string]any{"ref": p.Head}, "base": map[string]any{"ref": p.Base}, "state": "open"}
}

var pullPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls(?:/(\d+))?$`)

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := f.t
	fail := func(code int, format string, args ...any) {
		t.Errorf("github contract: %s %s: %s", r.Method, r.URL, fmt.Sprintf(format, args...))
		w.WriteHeader(code)
		fmt.Fprint(w, `{"message":"contract violation"}`)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+f.token {
		fail(http.StatusUnauthorized, "Authorization %q", got)
		return
	}
	if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
		fail(http.StatusBadRequest, "Accept %q", got)
		return
	}
	m := pullPath.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != f.owner || m[2] != f.repo {
		fail(http.StatusNotFound, "unexpected path")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && m[3] == "":
		q := r.URL.Query()
		if q.Get("state") != "open" || q.Get("base") == "" {
			fail(http.StatusBadRequest, "query %v", q)
			return
		}
		out := []map[string]any{}
		if q.Get("page") == "1" || q.Get("page") == "" {
			for _, p := range f.pulls {
				if p.open && p.Base == q.Get("base") {
					out = append(out, pullJSON(p.PullRequest))
				}
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && m[3] == "" && f.failCreate:
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, `{"message":"upstream down"}`)
	case r.Method == http.MethodPost && m[3] == "":
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			fail(http.StatusUnsupportedMediaType, "Content-Type %q", ct)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var in map[string]any
		if err := json.Unmarshal(raw, &in); err != nil {
			fail(http.StatusBadRequest, "body %s: %v", raw, err)
			return
		}
		for _, k := range []string{"title", "head", "base", "body"} {
			if s, ok := in[k].(string); !ok || s == "" {
				fail(http.StatusUnprocessableEntity, "field %s missing in %s", k, raw)
				return
			}
		}
		if len(in) != 4 {
			fail(http.StatusUnprocessableEntity, "unexpected fields in %s", raw)
			return
		}
		head, base := in["head"].(string), in["base"].(string)
		if out, _ := git(context.Background(), f.remote, "rev-parse", "-q", "--verify", "refs/heads/"+head); strings.TrimSpace(out) == "" {
			fail(http.StatusUnprocessableEntity, "head %s was not pushed", head)
			return
		}
		for _, p := range f.pulls {
			if p.open && p.Head == head && p.Base == base {
				fail(http.StatusUnprocessableEntity, "a pull request for %s already exists", head)
				return
			}
		}
		pr := PullRequest{Number: len(f.pulls) + 1, Title: in["title"].(string), Head: head, Base: base, Body: in["body"].(string)}
		f.pulls = append(f.pulls, &fakePull{PullRequest: pr, open: true})
		f.created++
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(pullJSON(pr))
	case r.Method == http.MethodPatch && m[3] != "":
		n, _ := strconv.Atoi(m[3])
		raw, _ := io.ReadAll(r.Body)
		if string(raw) != `{"state":"closed"}` {
			fail(http.StatusUnprocessableEntity, "body %s", raw)
			return
		}
		if n < 1 || n > len(f.pulls) {
			fail(http.StatusNotFound, "no pull request %d", n)
			return
		}
		f.pulls[n-1].open = false
		f.closed = append(f.closed, n)
		_ = json.NewEncoder(w).Encode(pullJSON(f.pulls[n-1].PullRequest))
	default:
		fail(http.StatusMethodNotAllowed, "unexpected request")
	}
}

func newFakeGitHub(t *testing.T, remote string) (*fakeGitHub, *GitHub) {
	f := &fakeGitHub{t: t, owner: "kaizen", repo: "kalypso-gitops", token: "s3cret", remote: remote}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &GitHub{BaseURL: srv.URL, Owner: "kaizen", Repo: "kalypso-gitops", Token: "s3cret", Client: srv.Client()}
}
