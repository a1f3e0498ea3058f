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

func TestGitHubContract(t *testing.T) {
	type call struct{ method, path, query, body string }
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		calls = append(calls, call{r.Method, r.URL.Path, r.URL.RawQuery, string(raw)})
		if r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("headers %v", r.Header)
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Get("page") == "1":
			var page []map[string]any
			for i := 1; i <= 100; i++ {
				page = append(page, map[string]any{"number": i, "head": map[string]string{"ref": fmt.Sprint("h", i)}, "base": map[string]string{"ref": "dev"}})
			}
			_ = json.NewEncoder(w).Encode(page)
		case r.Method == http.MethodGet:
			fmt.Fprint(w, `[{"number":101,"title":"t","body":"b","html_url":"u","head":{"ref":"h101"},"base":{"ref":"dev"}}]`)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"number":7,"html_url":"https://github.com/o/r/pull/7","head":{"ref":"deployment/dev/abc"},"base":{"ref":"dev"},"title":"T","body":"B"}`)
		case r.Method == http.MethodPatch && r.URL.Path == "/repos/o/r/pulls/9":
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"message":"Validation Failed"}`)
		default:
			fmt.Fprint(w, `{}`)
		}
	}))
	defer srv.Close()
	gh := &GitHub{BaseURL: srv.URL, Owner: "o", Repo: "r", Token: "tok", Client: srv.Client()}
	ctx := context.Background()

	prs, err := gh.ListOpenPullRequests(ctx, "dev")
	if err != nil || len(prs) != 101 || prs[100].Head != "h101" || prs[100].URL != "u" {
		t.Fatalf("list: %d %v", len(prs), err)
	}
	pr, err := gh.CreatePullRequest(ctx, PullRequest{Title: "T", Head: "deployment/dev/abc", Base: "dev", Body: "B"})
	if err != nil || pr.Number != 7 || pr.URL != "https://github.com/o/r/pull/7" {
		t.Fatalf("create: %+v %v", pr, err)
	}
	if err := gh.ClosePullRequest(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if err := gh.ClosePullRequest(ctx, 9); err == nil || !strings.Contains(err.Error(), "Validation Failed") {
		t.Fatalf("close error %v", err)
	}
	want := []call{
		{"GET", "/repos/o/r/pulls", "base=dev&page=1&per_page=100&state=open", ""},
		{"GET", "/repos/o/r/pulls", "base=dev&page=2&per_page=100&state=open", ""},
		{"POST", "/repos/o/r/pulls", "", `{"base":"dev","body":"B","head":"deployment/dev/abc","title":"T"}`},
		{"PATCH", "/repos/o/r/pulls/8", "", `{"state":"closed"}`},
		{"PATCH", "/repos/o/r/pulls/9", "", `{"state":"closed"}`},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%v\nwant\n%v", calls, want)
	}
}

func TestParseGitHubRepo(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/kaizen/kalypso-gitops":     "kaizen/kalypso-gitops",
		"https://github.com/kaizen/kalypso-gitops.git": "kaizen/kalypso-gitops",
		"git@github.com:kaizen/kalypso-gitops.git":     "kaizen/kalypso-gitops",
		"https://github.com/kaizen":                    "error",
	} {
		o, r, err := ParseGitHubRepo(in)
		got := o + "/" + r
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestOwnPullRequest(t *testing.T) {
	mine := PullRequest{Head: "deployment/dev/abc", Body: "x\n" + prMarker("dev")}
	tests := []struct {
		pr   PullRequest
		env  string
		want bool
	}{
		{mine, "dev", true},
		{mine, "stage", false},
		{PullRequest{Head: "deployment/dev/abc", Body: "a person's"}, "dev", false},
		{PullRequest{Head: "feature/x", Body: prMarker("dev")}, "dev", false},
	}
	for _, tc := range tests {
		if got := IsOwnPullRequest(tc.pr, tc.env); got != tc.want {
			t.Errorf("IsOwnPullRequest(%+v, %s) = %v", tc.pr, tc.env, got)
		}
	}
}

func TestRedact(t *testing.T) {
	got := redact([]string{"fetch", "https://x:tok@github.com/o/r", "git@github.com:o/r"})
	if got[1] != "https://***@github.com/o/r" || got[2] != "git@github.com:o/r" {
		t.Errorf("%v", got)
	}
}
