package gitops

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Issue is a forge issue. Both forges number issues and pull requests in one
// sequence, and a pull request's conversation is its issue's comments.
type Issue struct {
	Number int
	Title  string
	Body   string
	URL    string
}

// Comment is a comment in the conversation of an issue or a pull request.
type Comment struct {
	ID   int64
	Body string
	URL  string
}

// Tracker reports through a forge's issues and pull request conversations.
type Tracker interface {
	// ListOpenIssues returns the open issues (never pull requests).
	ListOpenIssues(ctx context.Context) ([]Issue, error)
	// CreateIssue opens an issue with issue.Title and issue.Body.
	CreateIssue(ctx context.Context, issue Issue) (Issue, error)
	// CloseIssue closes an issue as done.
	CloseIssue(ctx context.Context, number int) error
	// ListComments returns the comments of an issue or pull request, oldest first.
	ListComments(ctx context.Context, number int) ([]Comment, error)
	// CreateComment adds a comment to an issue or pull request.
	CreateComment(ctx context.Context, number int, body string) (Comment, error)
}

// ForgeAPI is a forge with both pull requests and issues: GitHub or Gitea/Forgejo.
type ForgeAPI interface {
	Forge
	Tracker
}

var (
	_ ForgeAPI = (*GitHub)(nil)
	_ ForgeAPI = (*Gitea)(nil)
)

// ghIssue decodes an issue of GitHub's REST API. GitHub lists pull requests
// among issues; those carry a pull_request object.
type ghIssue struct {
	Number      int       `json:"number"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	HTMLURL     string    `json:"html_url"`
	PullRequest *struct{} `json:"pull_request"`
}

func (i ghIssue) issue() Issue {
	return Issue{Number: i.Number, Title: i.Title, Body: i.Body, URL: i.HTMLURL}
}

type ghComment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
}

func (c ghComment) comment() Comment { return Comment{ID: c.ID, Body: c.Body, URL: c.HTMLURL} }

func (g *GitHub) issuesPath() string {
	return "/repos/" + url.PathEscape(g.Owner) + "/" + url.PathEscape(g.Repo) + "/issues"
}

// ListOpenIssues implements Tracker: GET /repos/{owner}/{repo}/issues?state=open,
// pull requests left out.
func (g *GitHub) ListOpenIssues(ctx context.Context) ([]Issue, error) {
	var out []Issue
	for page := 1; ; page++ {
		q := url.Values{"state": {"open"}, "per_page": {"100"}, "page": {fmt.Sprint(page)}}
		var issues []ghIssue
		if err := g.do(ctx, http.MethodGet, g.issuesPath()+"?"+q.Encode(), nil, &issues); err != nil {
			return nil, err
		}
		for _, i := range issues {
			if i.PullRequest == nil {
				out = append(out, i.issue())
			}
		}
		if len(issues) < 100 {
			return out, nil
		}
	}
}

// CreateIssue implements Tracker: POST /repos/{owner}/{repo}/issues.
func (g *GitHub) CreateIssue(ctx context.Context, issue Issue) (Issue, error) {
	var created ghIssue
	if err := g.do(ctx, http.MethodPost, g.issuesPath(), map[string]string{"title": issue.Title, "body": issue.Body}, &created); err != nil {
		return Issue{}, err
	}
	return created.issue(), nil
}

// CloseIssue implements Tracker: PATCH /repos/{owner}/{repo}/issues/{number}
// {"state":"closed","state_reason":"completed"}.
func (g *GitHub) CloseIssue(ctx context.Context, number int) error {
	return g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", g.issuesPath(), number),
		map[string]string{"state": "closed", "state_reason": "completed"}, nil)
}

// ListComments implements Tracker: GET /repos/{owner}/{repo}/issues/{number}/comments.
func (g *GitHub) ListComments(ctx context.Context, number int) ([]Comment, error) {
	var out []Comment
	for page := 1; ; page++ {
		q := url.Values{"per_page": {"100"}, "page": {fmt.Sprint(page)}}
		var comments []ghComment
		if err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/%d/comments?%s", g.issuesPath(), number, q.Encode()), nil, &comments); err != nil {
			return nil, err
		}
		for _, c := range comments {
			out = append(out, c.comment())
		}
		if len(comments) < 100 {
			return out, nil
		}
	}
}

// CreateComment implements Tracker: POST /repos/{owner}/{repo}/issues/{number}/comments.
func (g *GitHub) CreateComment(ctx context.Context, number int, body string) (Comment, error) {
	var created ghComment
	if err := g.do(ctx, http.MethodPost, fmt.Sprintf("%s/%d/comments", g.issuesPath(), number), map[string]string{"body": body}, &created); err != nil {
		return Comment{}, err
	}
	return created.comment(), nil
}
