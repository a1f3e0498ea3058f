// Package gitserver serves bare Git repositories over smart HTTP on loopback — a
// real Git server for tests and the local platform (`tug dev up`), that Flux's
// source-controller and the git CLI clone from and push to like any forge. It
// runs git's own http-backend as a CGI program; pushes need no credentials, so it
// listens on 127.0.0.1 only.
package gitserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Server serves the bare repositories <Root>/<name>.git at <URL>/<name>.git.
type Server struct {
	// Root holds the bare repositories.
	Root string
	// URL is the server's base URL (http://127.0.0.1:PORT).
	URL string

	srv      *http.Server
	listener net.Listener
	done     chan struct{}

	mu       sync.Mutex
	requests map[string]int
}

// validName is a repository name: letters, digits, '-', '_', '.', no leading dot.
var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// Start serves root (created when missing) on addr ("127.0.0.1:0" for a free port).
func Start(root, addr string) (*Server, error) {
	backend, err := httpBackend()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("git server: creating %s: %w", root, err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("git server: listening on %s: %w", addr, err)
	}
	s := &Server{Root: abs, URL: "http://" + l.Addr().String(), listener: l, done: make(chan struct{}), requests: map[string]int{}}
	cgiHandler := &cgi.Handler{
		Path: backend,
		Env: []string{
			"GIT_PROJECT_ROOT=" + abs,
			"GIT_HTTP_EXPORT_ALL=1",
			// Pushes over HTTP without authentication: loopback only.
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
		},
	}
	s.srv = &http.Server{Handler: s.handler(cgiHandler), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(l)
	}()
	return s, nil
}

func (s *Server) handler(backend http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if !strings.HasSuffix(name, ".git") || !validName.MatchString(strings.TrimSuffix(name, ".git")) {
			http.Error(w, "no such repository", http.StatusNotFound)
			return
		}
		s.mu.Lock()
		s.requests[strings.TrimSuffix(name, ".git")]++
		s.mu.Unlock()
		backend.ServeHTTP(w, r)
	})
}

// ErrExists is returned (wrapped) when creating a repository that already exists.
var ErrExists = errors.New("repository already exists")

// Create makes an empty bare repository name (default branch main) and returns its
// clone URL. Creating an existing repository is an error (ErrExists).
func (s *Server) Create(name string) (string, error) {
	if err := CreateIn(s.Root, name); err != nil {
		return "", err
	}
	return s.RepoURL(name), nil
}

// CreateIn makes an empty bare repository name (default branch main) in root, the
// folder a Server serves — from any process: a running server serves it at once.
// Creating an existing repository is an error (ErrExists).
func CreateIn(root, name string) error {
	if !validName.MatchString(name) || strings.HasSuffix(name, ".git") {
		return fmt.Errorf("git server: invalid repository name %q: use letters, digits, '-', '_' and '.'", name)
	}
	dir := filepath.Join(root, name+".git")
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("git server: repository %s: %w", name, ErrExists)
	}
	out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git server: creating repository %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// RepoURL is the clone URL of repository name.
func (s *Server) RepoURL(name string) string { return s.URL + "/" + name + ".git" }

// Requests is how many HTTP requests reached repository name.
func (s *Server) Requests(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[name]
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// httpBackend finds git's http-backend program.
func httpBackend() (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("git server: git is not installed (apt-get install git): %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("git server: %s not found: %w", p, err)
	}
	return p, nil
}
