package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ErrChartVersionNotFound is returned (wrapped) when a repository does not offer
// the requested chart version, even after refreshing its index.
var ErrChartVersionNotFound = errors.New("chart version not found in repository")

// chartSource fetches chart archives and keeps them on disk, keyed by
// (repository URL, chart, version), and repository indexes in memory, keyed by URL.
type chartSource struct {
	dir        string
	httpClient *http.Client
	plainHTTP  bool

	mu      sync.Mutex
	indexes map[string]*repo.IndexFile
	locks   map[string]*sync.Mutex

	registryOnce sync.Once
	registry     *registry.Client
	registryErr  error
}

func newChartSource(dir string, httpClient *http.Client, plainHTTP bool) *chartSource {
	return &chartSource{
		dir:        dir,
		httpClient: httpClient,
		plainHTTP:  plainHTTP,
		indexes:    map[string]*repo.IndexFile{},
		locks:      map[string]*sync.Mutex{},
	}
}

// chartRef is the normalised location of a chart.
type chartRef struct {
	repoURL string // without trailing slash
	chart   string // bare chart name
	version string
	oci     bool
}

func refFor(hc libv1beta1.HelmChart) (chartRef, error) {
	ref := chartRef{
		repoURL: strings.TrimRight(strings.TrimSpace(hc.RepositoryURL), "/"),
		chart:   strings.TrimSpace(hc.ChartName),
		version: strings.TrimSpace(hc.ChartVersion),
		oci:     registry.IsOCI(strings.TrimSpace(hc.RepositoryURL)),
	}
	// chartName is "<repositoryName>/<chart>" for http(s) repositories; OCI charts
	// are usually given bare, but accept the prefixed form there too.
	if _, after, ok := strings.Cut(ref.chart, "/"); ok {
		ref.chart = after
	}
	switch {
	case ref.repoURL == "":
		return ref, errors.New("repositoryURL is empty")
	case ref.chart == "":
		return ref, errors.New("chartName is empty")
	case ref.version == "":
		return ref, errors.New("chartVersion is empty")
	case strings.ContainsAny(ref.chart, `/\`) || ref.chart == ".." || ref.chart == ".":
		return ref, fmt.Errorf("invalid chart name %q", hc.ChartName)
	case !ref.oci && !strings.HasPrefix(ref.repoURL, "http://") && !strings.HasPrefix(ref.repoURL, "https://"):
		return ref, fmt.Errorf("repositoryURL %q is neither http(s):// nor oci://", hc.RepositoryURL)
	}
	return ref, nil
}

func (r chartRef) String() string {
	if r.oci {
		return fmt.Sprintf("%s/%s:%s", r.repoURL, r.chart, r.version)
	}
	return fmt.Sprintf("%s %s %s", r.repoURL, r.chart, r.version)
}

// cachePath is where the archive of ref is kept. Downloads made with
// credentials, trust settings or a keyring are kept apart from anonymous ones
// (and from each other).
func (s *chartSource) cachePath(ref chartRef, a Access) string {
	sum := sha256.Sum256([]byte(ref.repoURL + "\x00" + a.Fingerprint()))
	return filepath.Join(s.dir, "charts", hex.EncodeToString(sum[:8]), fmt.Sprintf("%s-%s.tgz", ref.chart, ref.version))
}

// keyLock serialises fetches of the same archive so concurrent Apply calls for
// many clusters download it once.
func (s *chartSource) keyLock(key string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[key]
	if !ok {
		l = &sync.Mutex{}
		s.locks[key] = l
	}
	return l
}

// Load returns the chart named by ref, downloading it into the cache first if needed.
// Every call returns a fresh copy: Helm actions mutate the charts they are given.
func (s *chartSource) Load(ctx context.Context, ref chartRef, a Access) (*chartv2.Chart, error) {
	path, err := s.fetch(ctx, ref, a)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load chart archive %s: %w", path, err)
	}
	if ch.Metadata == nil || ch.Metadata.Name != ref.chart {
		name := ""
		if ch.Metadata != nil {
			name = ch.Metadata.Name
		}
		return nil, fmt.Errorf("archive for %s holds chart %q", ref, name)
	}
	return ch, nil
}

func (s *chartSource) fetch(ctx context.Context, ref chartRef, a Access) (string, error) {
	path := s.cachePath(ref, a)
	l := s.keyLock(path)
	l.Lock()
	defer l.Unlock()
	if a.Keyring != nil && ref.oci {
		return "", fmt.Errorf("provenanceVerification of %s: this version of Tugboat verifies charts of http(s) repositories only", ref)
	}
	if a.signatureVerified() {
		if !ref.oci {
			return "", fmt.Errorf("signatureVerification of %s: Cosign signatures are verified for oci:// charts only; verify charts of http(s) repositories with provenanceVerification", ref)
		}
		return s.fetchSigned(ctx, ref, a, path)
	}
	if _, err := os.Stat(path); err == nil {
		if a.Keyring != nil {
			// Verified when it was cached; verified again from the cached provenance.
			if err := verifyCached(path, a); err != nil {
				return "", err
			}
		}
		return path, nil
	}
	var data, prov []byte
	var name string
	var err error
	if ref.oci {
		data, err = s.pullOCI(ctx, ref, a)
	} else {
		data, prov, name, err = s.downloadHTTP(ctx, ref, a)
	}
	if err != nil {
		return "", err
	}
	if a.Keyring != nil {
		if err := verifyProvenance(a, data, prov, name); err != nil {
			return "", fmt.Errorf("chart %s: %w", ref, err)
		}
		// Nothing of a chart that fails verification is kept.
		if err := writeFileAtomic(path+".prov", prov); err != nil {
			return "", fmt.Errorf("cache provenance of chart %s: %w", ref, err)
		}
		if err := writeFileAtomic(path+".name", []byte(name)); err != nil {
			return "", fmt.Errorf("cache provenance of chart %s: %w", ref, err)
		}
	}
	if err := writeFileAtomic(path, data); err != nil {
		return "", fmt.Errorf("cache chart %s: %w", ref, err)
	}
	return path, nil
}

// fetchSigned is fetch for an OCI chart with signatureVerification: the tag is
// resolved to its manifest digest on every call (a tag moved to another
// manifest is verified again), the archive is kept per digest, and nothing is
// pulled or kept before the digest's signature is verified.
func (s *chartSource) fetchSigned(ctx context.Context, ref chartRef, a Access, path string) (string, error) {
	repo, err := s.ociRepository(ref, a)
	if err != nil {
		return "", err
	}
	desc, err := s.resolveSigned(ctx, repo, ref, a)
	if err != nil {
		return "", err
	}
	signedPath := strings.TrimSuffix(path, ".tgz") + "@" + desc.Digest.Encoded() + ".tgz"
	if _, err := os.Stat(signedPath); err == nil {
		return signedPath, nil
	}
	data, err := pullChartLayer(ctx, repo, ref, desc)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(signedPath, data); err != nil {
		return "", fmt.Errorf("cache chart %s: %w", ref, err)
	}
	return signedPath, nil
}

// downloadHTTP downloads the archive of ref and, when a has a keyring, its
// provenance file; name is the archive's file name (what the provenance signs).
func (s *chartSource) downloadHTTP(ctx context.Context, ref chartRef, a Access) (data, prov []byte, name string, err error) {
	hc, err := a.httpClient(s.httpClient)
	if err != nil {
		return nil, nil, "", err
	}
	repoHost, err := hostOf(ref.repoURL)
	if err != nil {
		return nil, nil, "", err
	}
	get := func(u string) ([]byte, error) {
		return s.get(ctx, hc, u, a, repoHost)
	}
	cv, err := s.chartVersion(ctx, ref, get, a)
	if err != nil {
		return nil, nil, "", err
	}
	if len(cv.URLs) == 0 {
		return nil, nil, "", fmt.Errorf("index of %s lists no URL for %s %s", ref.repoURL, ref.chart, ref.version)
	}
	u, err := repo.ResolveReferenceURL(ref.repoURL+"/", cv.URLs[0])
	if err != nil {
		return nil, nil, "", fmt.Errorf("resolve chart URL %q against %s: %w", cv.URLs[0], ref.repoURL, err)
	}
	data, err = get(u)
	if err != nil {
		return nil, nil, "", fmt.Errorf("download chart %s %s: %w", ref.chart, ref.version, err)
	}
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, strings.TrimPrefix(cv.Digest, "sha256:")) {
			return nil, nil, "", fmt.Errorf("download chart %s %s from %s: digest %s does not match the index's %s", ref.chart, ref.version, u, got, cv.Digest)
		}
	}
	name = archiveName(u)
	if a.Keyring != nil {
		prov, err = get(u + ".prov")
		if err != nil {
			var nf notFoundError
			if errors.As(err, &nf) {
				return nil, nil, "", fmt.Errorf("chart %s %s is not signed: no provenance file %s.prov", ref.chart, ref.version, u)
			}
			return nil, nil, "", fmt.Errorf("download provenance of chart %s %s: %w", ref.chart, ref.version, err)
		}
	}
	return data, prov, name, nil
}

// chartVersion finds ref in the repository's index, fetching the index when it is
// not cached or when the cached copy lacks the version.
func (s *chartSource) chartVersion(ctx context.Context, ref chartRef, get func(string) ([]byte, error), a Access) (*repo.ChartVersion, error) {
	indexKey := ref.repoURL + "\x00" + a.Fingerprint()
	s.mu.Lock()
	idx := s.indexes[indexKey]
	s.mu.Unlock()
	if idx != nil {
		if cv := findVersion(idx, ref.chart, ref.version); cv != nil {
			return cv, nil
		}
	}
	idx, err := s.fetchIndex(ref.repoURL, indexKey, get)
	if err != nil {
		return nil, err
	}
	cv := findVersion(idx, ref.chart, ref.version)
	if cv == nil {
		return nil, fmt.Errorf("%w: %s version %s in %s (available: %s)", ErrChartVersionNotFound, ref.chart, ref.version, ref.repoURL, availableVersions(idx, ref.chart))
	}
	return cv, nil
}

// findVersion is the entry of exactly chart/version (no ranges: the version is part
// of the cache key and of the upgrade decision).
func findVersion(idx *repo.IndexFile, chart, version string) *repo.ChartVersion {
	for _, cv := range idx.Entries[chart] {
		if cv != nil && cv.Metadata != nil && cv.Version == version && !cv.Removed {
			return cv
		}
	}
	return nil
}

func availableVersions(idx *repo.IndexFile, chart string) string {
	entries, ok := idx.Entries[chart]
	if !ok || len(entries) == 0 {
		return "no such chart"
	}
	vs := make([]string, 0, len(entries))
	for _, e := range entries {
		if e != nil && e.Metadata != nil {
			vs = append(vs, e.Version)
		}
	}
	sort.Strings(vs)
	return strings.Join(vs, ", ")
}

func (s *chartSource) fetchIndex(repoURL, indexKey string, get func(string) ([]byte, error)) (*repo.IndexFile, error) {
	data, err := get(repoURL + "/index.yaml")
	if err != nil {
		return nil, fmt.Errorf("fetch index of repository %s: %w", repoURL, err)
	}
	// The SDK parses index files from disk only; keep the latest copy in the cache.
	sum := sha256.Sum256([]byte(indexKey))
	path := filepath.Join(s.dir, "indexes", hex.EncodeToString(sum[:8])+"-index.yaml")
	if err := writeFileAtomic(path, data); err != nil {
		return nil, fmt.Errorf("cache index of repository %s: %w", repoURL, err)
	}
	idx, err := repo.LoadIndexFile(path)
	if err != nil {
		return nil, fmt.Errorf("parse index of repository %s: %w", repoURL, err)
	}
	s.mu.Lock()
	s.indexes[indexKey] = idx
	s.mu.Unlock()
	return idx, nil
}

// notFoundError is a 404 answer.
type notFoundError struct{ url string }

func (e notFoundError) Error() string { return fmt.Sprintf("GET %s: 404 Not Found", e.url) }

// get fetches u with hc. The credentials of a go to the repository's host
// only, unless a.PassCredentialsAll.
func (s *chartSource) get(ctx context.Context, hc *http.Client, u string, a Access, repoHost string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if (a.Username != "" || a.Password != "") && (a.PassCredentialsAll || strings.EqualFold(req.URL.Host, repoHost)) {
		req.SetBasicAuth(a.Username, a.Password)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, notFoundError{url: u}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return data, nil
}

func (s *chartSource) registryClient() (*registry.Client, error) {
	s.registryOnce.Do(func() {
		opts := []registry.ClientOption{
			registry.ClientOptEnableCache(true),
			registry.ClientOptWriter(io.Discard),
			// Credentials live beside the cache, not in the user's Helm config.
			registry.ClientOptCredentialsFile(filepath.Join(s.dir, "registry", "config.json")),
		}
		if s.plainHTTP {
			opts = append(opts, registry.ClientOptPlainHTTP())
		}
		s.registry, s.registryErr = registry.NewClient(opts...)
	})
	return s.registry, s.registryErr
}

func (s *chartSource) pullOCI(ctx context.Context, ref chartRef, a Access) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rc, err := s.registryClient()
	if a.credentialed() {
		rc, err = s.registryClientFor(a)
	}
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	target := strings.TrimPrefix(ref.repoURL, "oci://") + "/" + ref.chart + ":" + ref.version
	res, err := rc.Pull(target, registry.PullOptWithChart(true))
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", target, err)
	}
	if res.Chart == nil || len(res.Chart.Data) == 0 {
		return nil, fmt.Errorf("pull %s: no chart layer", target)
	}
	return bytes.Clone(res.Chart.Data), nil
}

// registryClientFor is a registry client with a's credentials and trust
// settings (a new one: credentials are not shared between profiles).
func (s *chartSource) registryClientFor(a Access) (*registry.Client, error) {
	hc, err := a.httpClient(s.httpClient)
	if err != nil {
		return nil, err
	}
	opts := []registry.ClientOption{
		registry.ClientOptWriter(io.Discard),
		registry.ClientOptHTTPClient(hc),
		registry.ClientOptCredentialsFile(filepath.Join(s.dir, "registry", "none.json")),
	}
	if s.plainHTTP || a.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	if a.Username != "" || a.Password != "" {
		opts = append(opts, registry.ClientOptBasicAuth(a.Username, a.Password))
	}
	return registry.NewClient(opts...)
}

// archiveName is the file name of the archive at u (what its provenance names).
func archiveName(u string) string {
	if parsed, err := url.Parse(u); err == nil {
		return path.Base(parsed.Path)
	}
	return path.Base(u)
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
