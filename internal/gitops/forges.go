package gitops

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ForgeKind names a forge API.
type ForgeKind string

// The forges the scheduler speaks to.
const (
	ForgeGitHub ForgeKind = "github"
	// ForgeGitea is Gitea's REST API, which Forgejo (and Codeberg) serve too.
	ForgeGitea ForgeKind = "gitea"
)

// ParseForgeKind accepts github, gitea and forgejo (Gitea's API); "" is "".
func ParseForgeKind(s string) (ForgeKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "github":
		return ForgeGitHub, nil
	case "gitea", "forgejo":
		return ForgeGitea, nil
	}
	return "", fmt.Errorf("unknown forge %q (github, gitea or forgejo)", s)
}

// DetectForge guesses the forge of a repository from its URL: Gitea for
// codeberg.org and for hosts whose name contains "gitea" or "forgejo", GitHub
// otherwise (github.com, and GitHub Enterprise with an API URL).
func DetectForge(repoURL string) ForgeKind {
	host := strings.ToLower(repoHost(repoURL))
	if host == "codeberg.org" || strings.Contains(host, "gitea") || strings.Contains(host, "forgejo") {
		return ForgeGitea
	}
	return ForgeGitHub
}

// repoHost is the host name of an HTTP(S), ssh:// or scp-like (git@host:o/r) URL.
func repoHost(repoURL string) string {
	if at := strings.Index(repoURL, "@"); at >= 0 && !strings.Contains(repoURL, "://") {
		host, _, _ := strings.Cut(repoURL[at+1:], ":")
		return host
	}
	u, err := url.Parse(repoURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// ForgeOptions choose and configure the forge of a repository.
type ForgeOptions struct {
	// Kind is the forge; detected from the repository URL when empty (DetectForge).
	Kind ForgeKind
	// APIURL is the API root: https://api.github.com for GitHub and
	// <scheme>://<host>[/prefix]/api/v1 of the repository URL for Gitea when empty.
	APIURL string
	Token  string
	Client *http.Client
}

// NewForge returns the forge holding the repository at repoURL.
func NewForge(repoURL string, o ForgeOptions) (ForgeAPI, error) {
	kind := o.Kind
	if kind == "" {
		kind = DetectForge(repoURL)
	}
	switch kind {
	case ForgeGitHub:
		owner, name, err := ParseGitHubRepo(repoURL)
		if err != nil {
			return nil, err
		}
		return &GitHub{BaseURL: o.APIURL, Owner: owner, Repo: name, Token: o.Token, Client: o.Client}, nil
	case ForgeGitea:
		owner, name, api, err := ParseGiteaRepo(repoURL)
		if err != nil {
			return nil, err
		}
		if o.APIURL != "" {
			api = o.APIURL
		}
		return &Gitea{BaseURL: api, Owner: owner, Repo: name, Token: o.Token, Client: o.Client}, nil
	}
	return nil, fmt.Errorf("unknown forge %q", kind)
}
