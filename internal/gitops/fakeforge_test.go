package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeForge serves the pull request, issue and comment endpoints of GitHub's or
// Gitea's REST API for one repository, keeping them in memory, and fails the
// test on any request outside the contract. Issues and pull requests share one
// numbering, as on both forges.
type fakeForge struct {
	t      *testing.T
	kind   ForgeKind
	remote string // bare repository: pull requests must name a pushed head

	mu     sync.Mutex
	items  []*fakeItem // number i+1
	writes []string    // "POST /issues", "PATCH /pulls/3", ...
}

type fakeItem struct {
	pull     bool
	open     bool
	title    string
	body     string
	head     string
	base     string
	comments []string
}

// newFakeForge starts the fake and returns it with a client of kind for the
// repository https://forge.example/kaizen/kalypso-gitops.
func newFakeForge(t *testing.T, kind ForgeKind, remote string) (*fakeForge, ForgeAPI) {
	f := &fakeForge{t: t, kind: kind, remote: remote}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	api := srv.URL
	if kind == ForgeGitea {
		api += "/api/v1"
	}
	forge, err := NewForge("https://forge.example/kaizen/kalypso-gitops", ForgeOptions{Kind: kind, APIURL: api, Token: "s3cret", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return f, forge
}

func (f *fakeForge) add(it fakeItem) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	it.open = true
	f.items = append(f.items, &it)
	return len(f.items)
}

func (f *fakeForge) item(n int) fakeItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := *f.items[n-1]
	it.comments = append([]string(nil), it.comments...)
	return it
}

// merge merges pull request n: its base branch takes its head.
func (f *fakeForge) merge(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.items[n-1]
	it.open = false
	if _, err := git(context.Background(), f.remote, "update-ref", "refs/heads/"+it.base, "refs/heads/"+it.head); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeForge) takeWrites() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes
	f.writes = nil
	return w
}

func (f *fakeForge) itemJSON(n int) map[string]any {
	it := f.items[n-1]
	state := "open"
	if !it.open {
		state = "closed"
	}
	kind := "issues"
	if it.pull {
		kind = "pulls"
	}
	out := map[string]any{"number": n, "title": it.title, "body": it.body, "state": state,
		"html_url": fmt.Sprintf("https://forge.example/kaizen/kalypso-gitops/%s/%d", kind, n)}
	if it.pull {
		out["head"] = map[string]any{"ref": it.head}
		out["base"] = map[string]any{"ref": it.base}
		out["pull_request"] = map[string]any{"merged": false}
	} else if f.kind == ForgeGitea {
		out["pull_request"] = nil
	}
	return out
}

var fakePath = regexp.MustCompile(`^/repos/kaizen/kalypso-gitops/(pulls|issues)(?:/(\d+))?(/comments)?$`)

func (f *fakeForge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, format string, args ...any) {
		f.t.Errorf("%s contract: %s %s: %s", f.kind, r.Method, r.URL, fmt.Sprintf(format, args...))
		w.WriteHeader(code)
		fmt.Fprint(w, `{"message":"contract violation"}`)
	}
	path, auth, accept := r.URL.Path, "Bearer s3cret", "application/vnd.github+json"
	if f.kind == ForgeGitea {
		var ok bool
		if path, ok = strings.CutPrefix(path, "/api/v1"); !ok {
			fail(http.StatusNotFound, "not under /api/v1")
			return
		}
		auth, accept = "token s3cret", "application/json"
	}
	if got := r.Header.Get("Authorization"); got != auth {
		fail(http.StatusUnauthorized, "Authorization %q", got)
		return
	}
	if got := r.Header.Get("Accept"); got != accept {
		fail(http.StatusBadRequest, "Accept %q", got)
		return
	}
	m := fakePath.FindStringSubmatch(path)
	if m == nil {
		fail(http.StatusNotFound, "unexpected path")
		return
	}
	var in map[string]string
	if r.Method != http.MethodGet {
		raw, _ := io.ReadAll(r.Body)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			fail(http.StatusUnsupportedMediaType, "Content-Type %q", ct)
			return
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			fail(http.StatusBadRequest, "body %s: %v", raw, err)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, _ := strconv.Atoi(m[2])
	if m[2] != "" && (n < 1 || n > len(f.items) || (m[1] == "pulls" && !f.items[n-1].pull)) {
		fail(http.StatusNotFound, "no %s %d", m[1], n)
		return
	}
	if r.Method != http.MethodGet {
		f.writes = append(f.writes, r.Method+" /"+m[1]+strings.TrimPrefix(m[0], "/repos/kaizen/kalypso-gitops/"+m[1]))
	}
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && m[2] == "": // list pulls or issues
		baseParam := "base"
		if f.kind == ForgeGitea {
			baseParam = "base_branch"
			if m[1] == "issues" && q.Get("type") != "issues" {
				fail(http.StatusBadRequest, "query %v", q)
				return
			}
		}
		if q.Get("state") != "open" || (m[1] == "pulls" && q.Get("base") == "" && q.Get(baseParam) == "") {
			fail(http.StatusBadRequest, "query %v", q)
			return
		}
		out := []map[string]any{}
		if q.Get("page") == "1" {
			for i, it := range f.items {
				if it.open && (m[1] == "issues" && (!it.pull || f.kind == ForgeGitHub) || m[1] == "pulls" && it.pull && it.base == q.Get(baseParam)) {
					out = append(out, f.itemJSON(i+1))
				}
			}
		}
		if f.kind == ForgeGitea {
			w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && m[2] == "": // create a pull request or an issue
		it := &fakeItem{pull: m[1] == "pulls", open: true, title: in["title"], body: in["body"], head: in["head"], base: in["base"]}
		if it.title == "" || it.body == "" {
			fail(http.StatusUnprocessableEntity, "title or body missing: %v", in)
			return
		}
		if it.pull {
			if out, _ := git(context.Background(), f.remote, "rev-parse", "-q", "--verify", "refs/heads/"+it.head); strings.TrimSpace(out) == "" {
				fail(http.StatusUnprocessableEntity, "head %s was not pushed", it.head)
				return
			}
		}
		f.items = append(f.items, it)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(f.itemJSON(len(f.items)))
	case r.Method == http.MethodPatch && m[2] != "" && m[3] == "": // close
		want := map[string]string{"state": "closed"}
		if f.kind == ForgeGitHub && m[1] == "issues" {
			want["state_reason"] = "completed"
		}
		if fmt.Sprint(in) != fmt.Sprint(want) {
			fail(http.StatusUnprocessableEntity, "body %v", in)
			return
		}
		f.items[n-1].open = false
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(f.itemJSON(n))
	case m[1] == "issues" && m[3] != "" && r.Method == http.MethodGet:
		out := []map[string]any{}
		if f.kind == ForgeGitea || q.Get("page") == "1" {
			for i, c := range f.items[n-1].comments {
				out = append(out, map[string]any{"id": 100*n + i, "body": c})
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	case m[1] == "issues" && m[3] != "" && r.Method == http.MethodPost:
		if in["body"] == "" || len(in) != 1 {
			fail(http.StatusUnprocessableEntity, "body %v", in)
			return
		}
		it := f.items[n-1]
		it.comments = append(it.comments, in["body"])
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 100*n + len(it.comments) - 1, "body": in["body"],
			"html_url": fmt.Sprintf("https://forge.example/kaizen/kalypso-gitops/issues/%d#issuecomment-%d", n, 100*n+len(it.comments)-1)})
	default:
		fail(http.StatusMethodNotAllowed, "unexpected request")
	}
}
