package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type apiCall struct{ method, path, query, body string }

// recordingServer answers with respond and records every call; check fails the
// test on headers outside the contract.
func recordingServer(t *testing.T, check func(*http.Request) error, respond func(http.ResponseWriter, *http.Request)) (*httptest.Server, *[]apiCall) {
	t.Helper()
	var calls []apiCall
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		calls = append(calls, apiCall{r.Method, r.URL.Path, r.URL.RawQuery, string(raw)})
		if err := check(r); err != nil {
			t.Errorf("%s %s: %v", r.Method, r.URL, err)
		}
		w.Header().Set("Content-Type", "application/json")
		respond(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func giteaHeaders(r *http.Request) error {
	if got := r.Header.Get("Authorization"); got != "token tok" {
		return fmt.Errorf("Authorization %q", got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		return fmt.Errorf("Accept %q", got)
	}
	if ct := r.Header.Get("Content-Type"); (r.Method == http.MethodGet) != (ct == "") || (ct != "" && ct != "application/json") {
		return fmt.Errorf("Content-Type %q", ct)
	}
	return nil
}

func TestGiteaContract(t *testing.T) {
	srv, calls := recordingServer(t, giteaHeaders, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/repos/o/r/pulls" && q.Get("page") == "1":
			// A server whose MAX_RESPONSE_ITEMS is 30 answers 30 of 31; one of them is into another branch.
			w.Header().Set("X-Total-Count", "31")
			var page []map[string]any
			for i := 1; i <= 30; i++ {
				base := "dev"
				if i == 2 {
					base = "main"
				}
				page = append(page, map[string]any{"number": i, "head": map[string]string{"ref": fmt.Sprint("h", i)}, "base": map[string]string{"ref": base}})
			}
			_ = json.NewEncoder(w).Encode(page)
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/repos/o/r/pulls":
			w.Header().Set("X-Total-Count", "31")
			fmt.Fprint(w, `[{"number":31,"title":"t","body":"b","html_url":"https://gitea.example/o/r/pulls/31","head":{"ref":"h31"},"base":{"ref":"dev"},"state":"open"}]`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/repos/o/r/pulls":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"number":32,"html_url":"https://gitea.example/o/r/pulls/32","head":{"ref":"deployment/dev/abc"},"base":{"ref":"dev"},"title":"T","body":"B"}`)
		case r.Method == http.MethodPatch && r.URL.Path == "/api/v1/repos/o/r/pulls/9":
			w.WriteHeader(http.StatusPreconditionFailed)
			fmt.Fprint(w, `{"message":"cannot change state of this pull request, it was already merged","url":"x"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/repos/o/r/issues":
			w.Header().Set("X-Total-Count", "2")
			fmt.Fprint(w, `[{"number":3,"title":"I","body":"ib","html_url":"https://gitea.example/o/r/issues/3","pull_request":null},`+
				`{"number":4,"title":"P","body":"pb","html_url":"https://gitea.example/o/r/pulls/4","pull_request":{"merged":false}}]`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/repos/o/r/issues":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"number":33,"title":"T","body":"B","html_url":"https://gitea.example/o/r/issues/33"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/repos/o/r/issues/33/comments":
			fmt.Fprint(w, `[{"id":70,"body":"first","html_url":"https://gitea.example/o/r/issues/33#issuecomment-70"},{"id":71,"body":"second"}]`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/repos/o/r/issues/33/comments":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id":72,"body":"C","html_url":"https://gitea.example/o/r/issues/33#issuecomment-72"}`)
		case r.Method == http.MethodPatch:
			w.WriteHeader(http.StatusCreated) // Gitea answers edits with 201
			fmt.Fprint(w, `{}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"not found"}`)
		}
	})
	g := &Gitea{BaseURL: srv.URL + "/api/v1/", Owner: "o", Repo: "r", Token: "tok", Client: srv.Client()}
	ctx := context.Background()

	prs, err := g.ListOpenPullRequests(ctx, "dev")
	if err != nil || len(prs) != 30 || prs[29].Head != "h31" || prs[29].URL != "https://gitea.example/o/r/pulls/31" || prs[29].Body != "b" {
		t.Fatalf("list: %d %+v %v", len(prs), prs, err)
	}
	pr, err := g.CreatePullRequest(ctx, PullRequest{Title: "T", Head: "deployment/dev/abc", Base: "dev", Body: "B"})
	if err != nil || pr.Number != 32 || pr.Head != "deployment/dev/abc" || pr.URL != "https://gitea.example/o/r/pulls/32" {
		t.Fatalf("create: %+v %v", pr, err)
	}
	if err := g.ClosePullRequest(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if err := g.ClosePullRequest(ctx, 9); err == nil || !strings.Contains(err.Error(), "412") || !strings.Contains(err.Error(), "already merged") {
		t.Fatalf("close error %v", err)
	}
	issues, err := g.ListOpenIssues(ctx)
	if err != nil || len(issues) != 1 || issues[0] != (Issue{Number: 3, Title: "I", Body: "ib", URL: "https://gitea.example/o/r/issues/3"}) {
		t.Fatalf("issues %+v %v", issues, err)
	}
	issue, err := g.CreateIssue(ctx, Issue{Title: "T", Body: "B"})
	if err != nil || issue.Number != 33 || issue.URL != "https://gitea.example/o/r/issues/33" {
		t.Fatalf("create issue %+v %v", issue, err)
	}
	comments, err := g.ListComments(ctx, 33)
	if err != nil || len(comments) != 2 || comments[0].ID != 70 || comments[1].Body != "second" {
		t.Fatalf("comments %+v %v", comments, err)
	}
	c, err := g.CreateComment(ctx, 33, "C")
	if err != nil || c.ID != 72 || !strings.HasSuffix(c.URL, "#issuecomment-72") {
		t.Fatalf("comment %+v %v", c, err)
	}
	if err := g.CloseIssue(ctx, 33); err != nil {
		t.Fatal(err)
	}
	want := []apiCall{
		{"GET", "/api/v1/repos/o/r/pulls", "base_branch=dev&limit=50&page=1&state=open", ""},
		{"GET", "/api/v1/repos/o/r/pulls", "base_branch=dev&limit=50&page=2&state=open", ""},
		{"POST", "/api/v1/repos/o/r/pulls", "", `{"base":"dev","body":"B","head":"deployment/dev/abc","title":"T"}`},
		{"PATCH", "/api/v1/repos/o/r/pulls/8", "", `{"state":"closed"}`},
		{"PATCH", "/api/v1/repos/o/r/pulls/9", "", `{"state":"closed"}`},
		{"GET", "/api/v1/repos/o/r/issues", "limit=50&page=1&state=open&type=issues", ""},
		{"POST", "/api/v1/repos/o/r/issues", "", `{"body":"B","title":"T"}`},
		{"GET", "/api/v1/repos/o/r/issues/33/comments", "", ""},
		{"POST", "/api/v1/repos/o/r/issues/33/comments", "", `{"body":"C"}`},
		{"PATCH", "/api/v1/repos/o/r/issues/33", "", `{"state":"closed"}`},
	}
	if fmt.Sprint(*calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%v\nwant\n%v", *calls, want)
	}
}

// Without X-Total-Count, paging stops at a short page.
func TestGiteaPagingWithoutCount(t *testing.T) {
	srv, calls := recordingServer(t, giteaHeaders, func(w http.ResponseWriter, r *http.Request) {
		var page []map[string]any
		n := 50
		if r.URL.Query().Get("page") == "2" {
			n = 3
		}
		for i := 0; i < n; i++ {
			page = append(page, map[string]any{"number": i + 1, "body": "x"})
		}
		_ = json.NewEncoder(w).Encode(page)
	})
	g := &Gitea{BaseURL: srv.URL, Owner: "o", Repo: "r", Token: "tok", Client: srv.Client()}
	issues, err := g.ListOpenIssues(context.Background())
	if err != nil || len(issues) != 53 || len(*calls) != 2 {
		t.Fatalf("%d issues in %d calls: %v", len(issues), len(*calls), err)
	}
}

func TestGitHubIssuesContract(t *testing.T) {
	check := func(r *http.Request) error {
		if r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" || r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Accept") != "application/vnd.github+json" {
			return fmt.Errorf("headers %v", r.Header)
		}
		return nil
	}
	srv, calls := recordingServer(t, check, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/repos/o/r/issues" && q.Get("page") == "1":
			var page []map[string]any
			for i := 1; i <= 100; i++ {
				it := map[string]any{"number": i, "body": "b"}
				if i%2 == 0 { // GitHub lists pull requests among issues
					it["pull_request"] = map[string]any{"url": "u"}
				}
				page = append(page, it)
			}
			_ = json.NewEncoder(w).Encode(page)
		case r.Method == http.MethodGet && r.URL.Path == "/repos/o/r/issues":
			fmt.Fprint(w, `[{"number":101,"title":"t","body":"b","html_url":"https://github.com/o/r/issues/101"}]`)
		case r.Method == http.MethodPost && r.URL.Path == "/repos/o/r/issues":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"number":102,"title":"T","body":"B","html_url":"https://github.com/o/r/issues/102"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/repos/o/r/issues/7/comments":
			fmt.Fprint(w, `[{"id":1,"body":"one","html_url":"https://github.com/o/r/pull/7#issuecomment-1"}]`)
		case r.Method == http.MethodPost && r.URL.Path == "/repos/o/r/issues/7/comments":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id":2,"body":"C","html_url":"https://github.com/o/r/pull/7#issuecomment-2"}`)
		case r.Method == http.MethodPatch && r.URL.Path == "/repos/o/r/issues/102":
			fmt.Fprint(w, `{"number":102,"state":"closed"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Not Found"}`)
		}
	})
	gh := &GitHub{BaseURL: srv.URL, Owner: "o", Repo: "r", Token: "tok", Client: srv.Client()}
	ctx := context.Background()
	issues, err := gh.ListOpenIssues(ctx)
	if err != nil || len(issues) != 51 || issues[50].Number != 101 || issues[50].URL != "https://github.com/o/r/issues/101" {
		t.Fatalf("issues: %d %v", len(issues), err)
	}
	issue, err := gh.CreateIssue(ctx, Issue{Title: "T", Body: "B"})
	if err != nil || issue.Number != 102 {
		t.Fatalf("create: %+v %v", issue, err)
	}
	comments, err := gh.ListComments(ctx, 7)
	if err != nil || len(comments) != 1 || comments[0].Body != "one" {
		t.Fatalf("comments %+v %v", comments, err)
	}
	if c, err := gh.CreateComment(ctx, 7, "C"); err != nil || c.ID != 2 {
		t.Fatalf("comment %+v %v", c, err)
	}
	if err := gh.CloseIssue(ctx, 102); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.ListComments(ctx, 8); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing issue: %v", err)
	}
	want := []apiCall{
		{"GET", "/repos/o/r/issues", "page=1&per_page=100&state=open", ""},
		{"GET", "/repos/o/r/issues", "page=2&per_page=100&state=open", ""},
		{"POST", "/repos/o/r/issues", "", `{"body":"B","title":"T"}`},
		{"GET", "/repos/o/r/issues/7/comments", "page=1&per_page=100", ""},
		{"POST", "/repos/o/r/issues/7/comments", "", `{"body":"C"}`},
		{"PATCH", "/repos/o/r/issues/102", "", `{"state":"closed","state_reason":"completed"}`},
		{"GET", "/repos/o/r/issues/8/comments", "page=1&per_page=100", ""},
	}
	if fmt.Sprint(*calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%v\nwant\n%v", *calls, want)
	}
}

func TestParseGiteaRepo(t *testing.T) {
	for in, want := range map[string]string{
		"https://codeberg.org/kaizen/kalypso-gitops.git":     "kaizen/kalypso-gitops https://codeberg.org/api/v1",
		"http://127.0.0.1:3000/kaizen/kalypso-gitops":        "kaizen/kalypso-gitops http://127.0.0.1:3000/api/v1",
		"https://example.com/git/kaizen/kalypso-gitops/":     "kaizen/kalypso-gitops https://example.com/git/api/v1",
		"git@gitea.example.com:kaizen/kalypso-gitops.git":    "kaizen/kalypso-gitops https://gitea.example.com/api/v1",
		"ssh://git@gitea.example.com:2222/kaizen/gitops.git": "kaizen/gitops https://gitea.example.com/api/v1",
		"https://codeberg.org/kaizen":                        "error",
		"git@codeberg.org":                                   "error",
	} {
		o, r, api, err := ParseGiteaRepo(in)
		got := o + "/" + r + " " + api
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestNewForge(t *testing.T) {
	tests := []struct {
		url  string
		opts ForgeOptions
		want string
	}{
		{"https://github.com/o/r", ForgeOptions{}, "github o/r api="},
		{"https://github.example.com/o/r", ForgeOptions{APIURL: "https://github.example.com/api/v3"}, "github o/r api=https://github.example.com/api/v3"},
		{"https://codeberg.org/o/r.git", ForgeOptions{}, "gitea o/r api=https://codeberg.org/api/v1"},
		{"git@forgejo.example.com:o/r.git", ForgeOptions{}, "gitea o/r api=https://forgejo.example.com/api/v1"},
		{"https://git.example.com/o/r", ForgeOptions{Kind: ForgeGitea}, "gitea o/r api=https://git.example.com/api/v1"},
		{"https://git.example.com/o/r", ForgeOptions{Kind: ForgeGitea, APIURL: "https://api.example.com/v1"}, "gitea o/r api=https://api.example.com/v1"},
		{"https://git.example.com/o/r", ForgeOptions{Kind: "gitlab"}, "error"},
		{"https://github.com/o", ForgeOptions{}, "error"},
	}
	for _, tc := range tests {
		f, err := NewForge(tc.url, tc.opts)
		var got string
		switch f := f.(type) {
		case *GitHub:
			got = fmt.Sprintf("github %s/%s api=%s", f.Owner, f.Repo, f.BaseURL)
		case *Gitea:
			got = fmt.Sprintf("gitea %s/%s api=%s", f.Owner, f.Repo, f.BaseURL)
		}
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("%s %+v: %s, want %s", tc.url, tc.opts, got, tc.want)
		}
	}
	for in, want := range map[string]ForgeKind{"": "", "GitHub": ForgeGitHub, "gitea": ForgeGitea, "forgejo": ForgeGitea} {
		if got, err := ParseForgeKind(in); err != nil || got != want {
			t.Errorf("ParseForgeKind(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseForgeKind("gitlab"); err == nil {
		t.Error("gitlab accepted")
	}
}
