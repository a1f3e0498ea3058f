// Package dashboard serves a read-only web dashboard of the fleet from the
// manager's cached client: clusters (SveltosClusters and Cluster API Clusters,
// through clusters.Fleet), profiles with their ClusterSummaries' failures, the
// explanation of one profile for one cluster (internal/explain, the same steps
// `tug explain` prints), EventTriggers and scheduler Environments.
//
// Pages are server-rendered with html/template from embedded files. Every
// request but the login page's carries the token of a Secret (a bearer token,
// or the session cookie the login page sets), or in the kubernetes mode the
// user's own Kubernetes token, checked with a TokenReview, each read then
// checked with a SubjectAccessReview for that user (kubeauth.go). Pages follow the cache without
// a reload: the manager's informers notify open pages over server-sent events
// (/updates) and a small script fetches the page's content again. Lists filter
// (?q=) and paginate (?page=) on the server.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/httpserve"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// DefaultPageSize is the number of rows of a list page.
const DefaultPageSize = 100

// Options configure the dashboard.
type Options struct {
	// Address is where the dashboard is served ("host:port").
	Address string
	// TokenSecret names the Secret whose key "token" (TokenKey) users present
	// to log in, or scripts as a bearer token. The dashboard creates it with a
	// random token when it does not exist; rotating it ends every session.
	TokenSecret types.NamespacedName
	// SessionTTL is how long a login lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	// PageSize is the number of rows of a list page (default DefaultPageSize).
	PageSize int
	// Auth is how users are authenticated: AuthToken (the default, "": the
	// shared token of TokenSecret), AuthKubernetes (each user's own token,
	// every read checked for that user) or AuthNone (`tug dashboard` only).
	Auth string
}

// Check says whether the options can serve a dashboard.
func (o Options) Check() error {
	if o.Address == "" {
		return errors.New("the dashboard needs an address to listen on")
	}
	switch o.Auth {
	case "", AuthToken:
	case AuthKubernetes:
		return nil
	case AuthNone:
		if host, _, err := net.SplitHostPort(o.Address); err != nil || !loopbackHost(host) {
			return fmt.Errorf("the dashboard without authentication (%q) listens on loopback only, not on %q", AuthNone, o.Address)
		}
		return nil
	default:
		return fmt.Errorf("unknown dashboard authentication %q: want %q or %q", o.Auth, AuthToken, AuthKubernetes)
	}
	if o.TokenSecret.Namespace == "" || o.TokenSecret.Name == "" {
		return errors.New("the dashboard needs a token Secret (namespace/name) to authenticate users")
	}
	return nil
}

// Server is the dashboard: an http.Handler, and a manager Runnable serving it.
type Server struct {
	// Fleet reads everything: its Reader is the manager's cached client (or
	// any client.Reader), its CAPI says whether Cluster API Clusters are read.
	Fleet clusters.Fleet
	// Client reads the token Secret, and creates it when missing.
	Client client.Client
	// Informers, when set, notify open pages of changes (server-sent events);
	// without them pages show what was there when they loaded.
	Informers Informers
	// Clusters, when set, read managed clusters: a cluster's page lists the
	// objects each profile deployed there.
	Clusters ClusterReaders
	Options  Options

	once    sync.Once
	pages   map[string]*template.Template
	mux     *http.ServeMux
	changes changes
	// sessions and access serve the kubernetes mode: its logins, and
	// SubjectAccessReviews' recent answers.
	sessions sessions
	access   accessCache

	listening httpserve.Address
}

// NeedLeaderElection is false: every replica serves the dashboard.
func (s *Server) NeedLeaderElection() bool { return false }

// Addr is the address the dashboard listens on, once it started.
func (s *Server) Addr() net.Addr { return s.listening.Get() }

// Start serves the dashboard until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Options.Check(); err != nil {
		return err
	}
	if s.Options.Auth == "" || s.Options.Auth == AuthToken {
		if err := s.ensureToken(ctx); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", s.Options.Address)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves the dashboard on ln until ctx ends; ln is closed then.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Informers != nil {
		s.watch(ctx)
	}
	s.listening.Set(ln.Addr())
	// Requests end with ctx: open event streams do not hold up the shutdown.
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	log.FromContext(ctx).Info("serving the dashboard", "address", ln.Addr().String())
	return httpserve.Serve(ctx, srv, ln)
}

// ServeHTTP serves the dashboard's pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.once.Do(s.init)
	if s.Options.Auth == AuthNone && !loopbackHost(req.Host) {
		// Served without authentication on loopback only: a page asked for
		// under another host name (DNS rebinding) is refused.
		http.Error(w, "the local dashboard answers on loopback only (127.0.0.1, [::1] or localhost)", http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, req)
}

func (s *Server) init() {
	s.pages = parsePages()
	static, _ := fs.Sub(staticFiles, "static")
	// What anyone may fetch: the login page, its style and script.
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, req *http.Request) {
		s.loginPage(w, req, http.StatusOK, localPath(req.URL.Query().Get("next")), "")
	})
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	// The rest needs the token.
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "/clusters", http.StatusFound)
	})
	pages.HandleFunc("GET /updates", s.updates)
	pages.HandleFunc("GET /clusters", s.page("clusters", s.clustersPage))
	pages.HandleFunc("GET /clusters/{namespace}/{name}", s.page("cluster", s.clusterPage))
	pages.HandleFunc("GET /profiles", s.page("profiles", s.profilesPage))
	pages.HandleFunc("GET /profiles/ClusterProfile/{name}", s.page("profile", s.profilePage))
	pages.HandleFunc("GET /profiles/Profile/{namespace}/{name}", s.page("profile", s.profilePage))
	pages.HandleFunc("GET /explain", s.page("explain", s.explainPage))
	pages.HandleFunc("GET /events", s.page("events", s.eventsPage))
	pages.HandleFunc("GET /environments", s.page("environments", s.environmentsPage))
	mux.Handle("/", s.requireLogin(pages))
	s.mux = mux
}

// parsePages parses each page template with the shared layout.
func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range []string{"clusters", "cluster", "profiles", "profile", "explain", "events", "environments", "login"} {
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// errNotFound makes a page answer 404.
type errNotFound struct{ what string }

func (e errNotFound) Error() string { return e.what + " not found" }

// errBadRequest makes a page answer 400.
type errBadRequest struct{ err error }

func (e errBadRequest) Error() string { return e.err.Error() }

// layout is what every page's template receives.
type layout struct {
	Title string
	Nav   string
	Error string
	// Forbidden are the parts of the page left out — reads the user may not
	// make, a cluster that could not be read — and why: the page shows the rest.
	Forbidden []string
	// Local says the dashboard is `tug dashboard`'s: no login, no logout.
	Local bool
	Data  any
}

// isForbidden says whether err is a read the user may not make: refused by
// the kubernetes mode's access review (errForbidden), or by the API server
// itself (`tug dashboard` reads with the user's own credentials).
func isForbidden(err error) bool {
	var fb errForbidden
	return errors.As(err, &fb) || apierrors.IsForbidden(err)
}

// forbiddenParts collects, for one request, the reads a page left out
// because the user may not make them.
type forbiddenParts struct {
	mu       sync.Mutex
	messages []string
}

type forbiddenPartsKey struct{}

// leaveOut says whether err is a forbidden read, which the page then leaves
// out: the page notes it and shows the rest. Any other error is the page's.
func leaveOut(req *http.Request, err error) bool {
	if !isForbidden(err) {
		return false
	}
	noteLeftOut(req, err)
	return true
}

// noteLeftOut notes on the page a part it leaves out, and why.
func noteLeftOut(req *http.Request, err error) {
	if parts, ok := req.Context().Value(forbiddenPartsKey{}).(*forbiddenParts); ok {
		parts.mu.Lock()
		defer parts.mu.Unlock()
		if !slices.Contains(parts.messages, err.Error()) {
			parts.messages = append(parts.messages, err.Error())
		}
	}
}

// page renders a page from what load returns.
func (s *Server) page(name string, load func(*http.Request) (title string, data any, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		parts := &forbiddenParts{}
		req = req.WithContext(context.WithValue(req.Context(), forbiddenPartsKey{}, parts))
		title, data, err := load(req)
		status := http.StatusOK
		l := layout{Title: title, Nav: nav(name), Data: data, Forbidden: parts.messages, Local: s.Options.Auth == AuthNone}
		if err != nil {
			var nf errNotFound
			var br errBadRequest
			switch {
			case isForbidden(err):
				// The page shows nothing of what the user may not read,
				// and says so.
				l.Data = nil
			case errors.As(err, &nf):
				status = http.StatusNotFound
			case errors.As(err, &br):
				status = http.StatusBadRequest
			default:
				status = http.StatusInternalServerError
			}
			l.Error = err.Error()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		if err := s.pages[name].ExecuteTemplate(w, "layout", l); err != nil {
			log.FromContext(req.Context()).Error(err, "rendering the dashboard", "page", name)
		}
	}
}

// nav is the navigation entry a page belongs to.
func nav(page string) string {
	switch page {
	case "cluster":
		return "clusters"
	case "profile", "explain":
		return "profiles"
	}
	return page
}

func (s *Server) pageSize() int {
	if s.Options.PageSize > 0 {
		return s.Options.PageSize
	}
	return DefaultPageSize
}

// loopbackHost says whether host (a request's Host: name or address, and
// port) names this machine's loopback.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
