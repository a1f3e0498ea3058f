// Package chartrepo is a real, local Helm chart repository: it packages chart
// source folders into archives with the Helm SDK, writes their index.yaml and
// serves both over HTTP. Tests and the demo point HelmChart.repositoryURL at it.
package chartrepo

import (
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Package packages every chart source folder found under srcDir (a folder holding
// Chart.yaml; subcharts inside a chart's charts/ folder are part of their parent)
// into outDir as <name>-<version>.tgz, then writes outDir/index.yaml with
// relative URLs, so the index is valid wherever outDir is served. It returns the
// archive paths, sorted.
func Package(srcDir, outDir string) ([]string, error) {
	var chartDirs []string
	err := filepath.WalkDir(srcDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if _, err := os.Stat(filepath.Join(path, "Chart.yaml")); err == nil {
			chartDirs = append(chartDirs, path)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find charts under %s: %w", srcDir, err)
	}
	if len(chartDirs) == 0 {
		return nil, fmt.Errorf("no chart (folder with Chart.yaml) under %s", srcDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", outDir, err)
	}
	archives := make([]string, 0, len(chartDirs))
	seen := map[string]string{}
	for _, dir := range chartDirs {
		ch, err := loader.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("load chart %s: %w", dir, err)
		}
		if err := ch.Validate(); err != nil {
			return nil, fmt.Errorf("validate chart %s: %w", dir, err)
		}
		key := ch.Metadata.Name + "-" + ch.Metadata.Version
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("charts %s and %s are both %s", prev, dir, key)
		}
		seen[key] = dir
		path, err := chartutil.Save(ch, outDir)
		if err != nil {
			return nil, fmt.Errorf("package chart %s: %w", dir, err)
		}
		archives = append(archives, path)
	}
	idx, err := repo.IndexDirectory(outDir, "")
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", outDir, err)
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(outDir, "index.yaml"), 0o644); err != nil {
		return nil, fmt.Errorf("write index of %s: %w", outDir, err)
	}
	sort.Strings(archives)
	return archives, nil
}

// Server serves a packaged repository over HTTP and counts the requests per path.
type Server struct {
	// URL is the repository URL (http://127.0.0.1:port), usable as repositoryURL.
	URL string
	// OCIURL is the same charts as an OCI registry (oci://127.0.0.1:port/charts),
	// usable as repositoryURL with a bare chartName; plain HTTP only. It takes
	// pushes too (CosignSign stores signatures there).
	OCIURL string
	// Dir holds the archives and index.yaml being served.
	Dir string

	srv      *http.Server
	listener net.Listener
	done     chan error
	ownsDir  bool
	closeErr error
	closed   sync.Once

	mu       sync.Mutex
	requests map[string]int
}

// Serve packages the charts under srcDir into a new temporary folder and serves
// it on a free port of 127.0.0.1.
func Serve(srcDir string) (*Server, error) {
	return ServeOn("127.0.0.1:0", srcDir)
}

// ServeOn is Serve on the given listen address (host:port).
func ServeOn(addr, srcDir string) (*Server, error) {
	out, err := os.MkdirTemp("", "tugboat-chartrepo-")
	if err != nil {
		return nil, fmt.Errorf("chart repository folder: %w", err)
	}
	if _, err := Package(srcDir, out); err != nil {
		os.RemoveAll(out)
		return nil, err
	}
	s, err := ServeDir(addr, out)
	if err != nil {
		os.RemoveAll(out)
		return nil, err
	}
	s.ownsDir = true
	return s, nil
}

// ServeDir serves an already packaged repository folder (archives + index.yaml).
func ServeDir(addr, dir string) (*Server, error) {
	return ServeDirWith(addr, dir, ServeOptions{})
}

// ServeOptions make the repository private.
type ServeOptions struct {
	// Username and Password, when set, are required (HTTP basic auth) for every request.
	Username, Password string
	// TLS, when set, serves HTTPS with this configuration (its certificates).
	TLS *tls.Config
}

// ServeDirWith is ServeDir with options.
func ServeDirWith(addr, dir string, opts ServeOptions) (*Server, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.yaml")); err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	oci, err := newOCIStore(dir)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s as OCI registry: %w", dir, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("chart repository listen on %s: %w", addr, err)
	}
	scheme := "http://"
	if opts.TLS != nil {
		scheme = "https://"
		ln = tls.NewListener(ln, opts.TLS)
	}
	s := &Server{
		URL:      scheme + ln.Addr().String(),
		OCIURL:   "oci://" + ln.Addr().String() + "/" + OCINamespace,
		Dir:      dir,
		listener: ln,
		done:     make(chan error, 1),
		requests: map[string]int{},
	}
	files := http.FileServer(http.Dir(dir))
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		if opts.Username != "" || opts.Password != "" {
			user, pass, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(opts.Username)) != 1 ||
				subtle.ConstantTimeCompare([]byte(pass), []byte(opts.Password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		if r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/") {
			oci.serve(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "read-only chart repository", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	})}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// TB is the part of testing.TB that Start uses (this package does not import
// testing, so that the tug binary can link it).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Start is Serve for tests: it fails t on error and stops the server at cleanup.
func Start(t TB, srcDir string) *Server {
	t.Helper()
	s, err := Serve(srcDir)
	if err != nil {
		t.Fatalf("chart repository: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close chart repository: %v", err)
		}
	})
	return s
}

// Requests is how many requests asked for path (e.g. "/index.yaml").
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Downloads is how many times the archive of chart/version was requested.
func (s *Server) Downloads(chart, version string) int {
	return s.Requests("/" + chart + "-" + version + ".tgz")
}

// OCIPulls is how many times the chart layer of chart/version was fetched
// from the OCI side.
func (s *Server) OCIPulls(chart, version string) int {
	data, err := os.ReadFile(filepath.Join(s.Dir, chart+"-"+version+".tgz"))
	if err != nil {
		return 0
	}
	return s.Requests("/v2/" + OCINamespace + "/" + chart + "/blobs/" + digestOf(data))
}

// Close stops serving and removes the folder Serve created. Later calls return
// the first call's result.
func (s *Server) Close() error {
	s.closed.Do(func() {
		err := s.srv.Close()
		if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
			err = serveErr
		}
		if s.ownsDir {
			if rmErr := os.RemoveAll(s.Dir); rmErr != nil && err == nil {
				err = rmErr
			}
		}
		s.closeErr = err
	})
	return s.closeErr
}
