package gitops

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// PullRequest is a forge's pull (merge) request.
type PullRequest struct {
	Number int
	Title  string
	// Head is the source branch, Base the branch it merges into.
	Head string
	Base string
	Body string
	URL  string
}

// Forge proposes changes as pull requests.
type Forge interface {
	// ListOpenPullRequests returns the open pull requests merging into base.
	ListOpenPullRequests(ctx context.Context, base string) ([]PullRequest, error)
	// CreatePullRequest opens a pull request from pr.Head into pr.Base.
	CreatePullRequest(ctx context.Context, pr PullRequest) (PullRequest, error)
	// ClosePullRequest closes a pull request without merging it.
	ClosePullRequest(ctx context.Context, number int) error
}

// GitHub is a Forge backed by the GitHub REST API (v3, version 2022-11-28).
type GitHub struct {
	// BaseURL is the API root; https://api.github.com when empty.
	BaseURL string
	Owner   string
	Repo    string
	// Token authenticates as a bearer token; anonymous when empty.
	Token  string
	Client *http.Client
}

// ParseGitHubRepo extracts owner and name from a GitHub repository URL
// (https://github.com/o/r(.git), git@github.com:o/r.git).
func ParseGitHubRepo(repoURL string) (owner, name string, err error) {
	s := strings.TrimSuffix(strings.TrimSuffix(repoURL, "/"), ".git")
	if strings.HasPrefix(s, "git@") {
		if i := strings.Index(s, ":"); i > 0 {
			s = s[i+1:]
		}
	} else {
		u, perr := url.Parse(s)
		if perr != nil {
			return "", "", fmt.Errorf("parsing repository URL %s: %w", repoURL, perr)
		}
		s = u.Path
	}
	parts := strings.Split(strings.Trim(s, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("repository URL %s is not <host>/<owner>/<repo>", repoURL)
	}
	return parts[0], parts[1], nil
}

type ghPull struct {
	Number  int    `json:"number"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
	Head    struct {
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

func (p ghPull) pr() PullRequest {
	return PullRequest{Number: p.Number, Title: p.Title, Body: p.Body, URL: p.HTMLURL, Head: p.Head.Ref, Base: p.Base.Ref}
}

func (g *GitHub) do(ctx context.Context, method, path string, in, out any) error {
	base := g.BaseURL
	if base == "" {
		base = "https://api.github.com"
	}
	headers := map[string]string{"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
	if g.Token != "" {
		headers["Authorization"] = "Bearer " + g.Token
	}
	_, err := callJSON(ctx, g.Client, "github", method, base, path, headers, in, out)
	return err
}

// callJSON is one JSON request to a forge's REST API (forge names it in
// errors): in, when not nil, is the body; a 2xx answer is decoded into out
// (when not nil) and its headers returned; another status is an error with
// the forge's message.
func callJSON(ctx context.Context, client *http.Client, forge, method, base, path string, headers map[string]string, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", forge, method, path, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", forge, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: reading response: %w", forge, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		return nil, fmt.Errorf("%s %s %s: %s: %s", forge, method, path, resp.Status, e.Message)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("%s %s %s: decoding response: %w", forge, method, path, err)
		}
	}
	return resp.Header, nil
}

func (g *GitHub) pullsPath() string {
	return "/repos/" + url.PathEscape(g.Owner) + "/" + url.PathEscape(g.Repo) + "/pulls"
}

// ListOpenPullRequests implements Forge: GET /repos/{owner}/{repo}/pulls?state=open&base=...
func (g *GitHub) ListOpenPullRequests(ctx context.Context, base string) ([]PullRequest, error) {
	var out []PullRequest
	for page := 1; ; page++ {
		q := url.Values{"state": {"open"}, "base": {base}, "per_page": {"100"}, "page": {fmt.Sprint(page)}}
		var pulls []ghPull
		if err := g.do(ctx, http.MethodGet, g.pullsPath()+"?"+q.Encode(), nil, &pulls); err != nil {
			return nil, err
		}
		for _, p := range pulls {
			out = append(out, p.pr())
		}
		if len(pulls) < 100 {
			return out, nil
		}
	}
}

// CreatePullRequest implements Forge: POST /repos/{owner}/{repo}/pulls.
func (g *GitHub) CreatePullRequest(ctx context.Context, pr PullRequest) (PullRequest, error) {
	in := map[string]string{"title": pr.Title, "head": pr.Head, "base": pr.Base, "body": pr.Body}
	var created ghPull
	if err := g.do(ctx, http.MethodPost, g.pullsPath(), in, &created); err != nil {
		return PullRequest{}, err
	}
	return created.pr(), nil
}

// ClosePullRequest implements Forge: PATCH /repos/{owner}/{repo}/pulls/{number} {"state":"closed"}.
func (g *GitHub) ClosePullRequest(ctx context.Context, number int) error {
	return g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", g.pullsPath(), number), map[string]string{"state": "closed"}, nil)
}
