package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Gitea is a Forge and Tracker backed by the REST API (v1) of Gitea, which
// Forgejo serves too.
type Gitea struct {
	// BaseURL is the API root, e.g. https://codeberg.org/api/v1 (required;
	// ParseGiteaRepo derives it from the repository URL).
	BaseURL string
	Owner   string
	Repo    string
	// Token authenticates as "Authorization: token <Token>"; anonymous when empty.
	Token  string
	Client *http.Client
}

// giteaPageSize is the page size asked for; a server may answer with fewer
// (its MAX_RESPONSE_ITEMS), so paging follows X-Total-Count.
const giteaPageSize = 50

// ParseGiteaRepo extracts owner and name from a Gitea/Forgejo repository URL
// (https://host[/prefix]/o/r(.git), git@host:o/r.git, ssh://git@host[:port]/o/r.git)
// and the API root it implies: https://host[/prefix]/api/v1 (the scheme and port
// of an HTTP URL are kept; SSH URLs give https on the default port).
func ParseGiteaRepo(repoURL string) (owner, name, apiURL string, err error) {
	s := strings.TrimSuffix(strings.TrimSuffix(repoURL, "/"), ".git")
	var scheme, host, path string
	if at := strings.Index(s, "@"); at >= 0 && !strings.Contains(s, "://") {
		hostPath := s[at+1:]
		i := strings.Index(hostPath, ":")
		if i < 0 {
			return "", "", "", fmt.Errorf("repository URL %s is not <host>/<owner>/<repo>", repoURL)
		}
		scheme, host, path = "https", hostPath[:i], hostPath[i+1:]
	} else {
		u, perr := url.Parse(s)
		if perr != nil {
			return "", "", "", fmt.Errorf("parsing repository URL %s: %w", repoURL, perr)
		}
		scheme, host, path = u.Scheme, u.Host, u.Path
		if scheme != "http" && scheme != "https" {
			scheme, host = "https", u.Hostname()
		}
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if host == "" || len(parts) < 2 || parts[len(parts)-2] == "" || parts[len(parts)-1] == "" {
		return "", "", "", fmt.Errorf("repository URL %s is not <host>/<owner>/<repo>", repoURL)
	}
	prefix := strings.Join(parts[:len(parts)-2], "/")
	if prefix != "" {
		prefix = "/" + prefix
	}
	return parts[len(parts)-2], parts[len(parts)-1], scheme + "://" + host + prefix + "/api/v1", nil
}

// do sends one request and decodes the JSON answer into out; it returns the
// answer's headers.
func (g *Gitea) do(ctx context.Context, method, path string, in, out any) (http.Header, error) {
	if g.BaseURL == "" {
		return nil, fmt.Errorf("gitea %s %s: no API URL", method, path)
	}
	headers := map[string]string{"Accept": "application/json"}
	if g.Token != "" {
		headers["Authorization"] = "token " + g.Token
	}
	return callJSON(ctx, g.Client, "gitea", method, g.BaseURL, path, headers, in, out)
}

func (g *Gitea) repoPath() string {
	return "/repos/" + url.PathEscape(g.Owner) + "/" + url.PathEscape(g.Repo)
}

// list pages through a list endpoint (query q plus page and limit), calling
// each with each page's raw items; it stops at X-Total-Count items, or at a
// short or empty page when the server sends no count.
func (g *Gitea) list(ctx context.Context, path string, q url.Values, each func(json.RawMessage) error) error {
	seen := 0
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		q.Set("limit", strconv.Itoa(giteaPageSize))
		var items []json.RawMessage
		h, err := g.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &items)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := each(it); err != nil {
				return fmt.Errorf("gitea GET %s: decoding response: %w", path, err)
			}
		}
		seen += len(items)
		total, terr := strconv.Atoi(h.Get("X-Total-Count"))
		if len(items) == 0 || (terr == nil && seen >= total) || (terr != nil && len(items) < giteaPageSize) {
			return nil
		}
	}
}

// ListOpenPullRequests implements Forge: GET /repos/{owner}/{repo}/pulls?state=open&base_branch=...
// (servers older than the base_branch filter answer with every open pull
// request; those into other branches are left out here).
func (g *Gitea) ListOpenPullRequests(ctx context.Context, base string) ([]PullRequest, error) {
	var out []PullRequest
	err := g.list(ctx, g.repoPath()+"/pulls", url.Values{"state": {"open"}, "base_branch": {base}}, func(raw json.RawMessage) error {
		var p ghPull // Gitea's pull request has the fields GitHub's has
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		if p.Base.Ref == base {
			out = append(out, p.pr())
		}
		return nil
	})
	return out, err
}

// CreatePullRequest implements Forge: POST /repos/{owner}/{repo}/pulls.
func (g *Gitea) CreatePullRequest(ctx context.Context, pr PullRequest) (PullRequest, error) {
	in := map[string]string{"title": pr.Title, "head": pr.Head, "base": pr.Base, "body": pr.Body}
	var created ghPull
	if _, err := g.do(ctx, http.MethodPost, g.repoPath()+"/pulls", in, &created); err != nil {
		return PullRequest{}, err
	}
	return created.pr(), nil
}

// ClosePullRequest implements Forge: PATCH /repos/{owner}/{repo}/pulls/{index} {"state":"closed"}.
func (g *Gitea) ClosePullRequest(ctx context.Context, number int) error {
	_, err := g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/pulls/%d", g.repoPath(), number), map[string]string{"state": "closed"}, nil)
	return err
}

// ListOpenIssues implements Tracker: GET /repos/{owner}/{repo}/issues?state=open&type=issues.
func (g *Gitea) ListOpenIssues(ctx context.Context) ([]Issue, error) {
	var out []Issue
	err := g.list(ctx, g.repoPath()+"/issues", url.Values{"state": {"open"}, "type": {"issues"}}, func(raw json.RawMessage) error {
		var i ghIssue // number, title, body, html_url and pull_request, as on GitHub
		if err := json.Unmarshal(raw, &i); err != nil {
			return err
		}
		if i.PullRequest == nil {
			out = append(out, i.issue())
		}
		return nil
	})
	return out, err
}

// CreateIssue implements Tracker: POST /repos/{owner}/{repo}/issues.
func (g *Gitea) CreateIssue(ctx context.Context, issue Issue) (Issue, error) {
	var created ghIssue
	if _, err := g.do(ctx, http.MethodPost, g.repoPath()+"/issues", map[string]string{"title": issue.Title, "body": issue.Body}, &created); err != nil {
		return Issue{}, err
	}
	return created.issue(), nil
}

// CloseIssue implements Tracker: PATCH /repos/{owner}/{repo}/issues/{index} {"state":"closed"}.
func (g *Gitea) CloseIssue(ctx context.Context, number int) error {
	_, err := g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/issues/%d", g.repoPath(), number), map[string]string{"state": "closed"}, nil)
	return err
}

// ListComments implements Tracker: GET /repos/{owner}/{repo}/issues/{index}/comments
// (one answer holding every comment; the endpoint has no pages).
func (g *Gitea) ListComments(ctx context.Context, number int) ([]Comment, error) {
	var comments []ghComment
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/issues/%d/comments", g.repoPath(), number), nil, &comments); err != nil {
		return nil, err
	}
	out := make([]Comment, len(comments))
	for i, c := range comments {
		out[i] = c.comment()
	}
	return out, nil
}

// CreateComment implements Tracker: POST /repos/{owner}/{repo}/issues/{index}/comments.
func (g *Gitea) CreateComment(ctx context.Context, number int, body string) (Comment, error) {
	var created ghComment
	if _, err := g.do(ctx, http.MethodPost, fmt.Sprintf("%s/issues/%d/comments", g.repoPath(), number), map[string]string{"body": body}, &created); err != nil {
		return Comment{}, err
	}
	return created.comment(), nil
}
