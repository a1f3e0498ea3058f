// Package sources reads what Flux's source-controller publishes: a
// GitRepository, OCIRepository or Bucket (source.toolkit.fluxcd.io/v1) names its
// current artifact in status.artifact (URL, revision, digest); a Fetcher
// downloads that tarball, verifies its digest, and keeps its files in memory by
// digest, so one download serves every cluster and every profile that uses the
// same revision. Tugboat relies on the source API as a contract: it never
// clones, pulls or lists buckets itself.
package sources

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Group is Flux's source API group; Version the version Tugboat reads.
const (
	Group   = "source.toolkit.fluxcd.io"
	Version = "v1"
)

// The source kinds.
const (
	GitRepository = "GitRepository"
	OCIRepository = "OCIRepository"
	Bucket        = "Bucket"
)

// Kinds are the source kinds a profile may refer to.
func Kinds() []string { return []string{GitRepository, OCIRepository, Bucket} }

// IsSourceKind reports whether kind is one of Kinds.
func IsSourceKind(kind string) bool {
	return kind == GitRepository || kind == OCIRepository || kind == Bucket
}

// GVK is the GroupVersionKind of a source kind.
func GVK(kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: Group, Version: Version, Kind: kind}
}

// Ref names a source object.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

func (r Ref) String() string { return r.Kind + " " + r.Namespace + "/" + r.Name }

// Artifact is a source's status.artifact.
type Artifact struct {
	URL      string
	Revision string
	Digest   string
}

// Snapshot is the content of one artifact: its regular files by slash path.
type Snapshot struct {
	Source   Ref
	Artifact Artifact
	files    map[string][]byte
}

// Files returns the files at or below dir ("" or "." for all), keyed by their path
// relative to dir (a dir naming one file yields that file under its base name).
// A dir holding nothing is an error naming the source, revision and path.
func (s *Snapshot) Files(dir string) (map[string][]byte, error) {
	clean := strings.Trim(path.Clean("/"+dir), "/")
	out := map[string][]byte{}
	for p, data := range s.files {
		switch {
		case clean == "":
			out[p] = data
		case p == clean:
			out[path.Base(p)] = data
		case strings.HasPrefix(p, clean+"/"):
			out[strings.TrimPrefix(p, clean+"/")] = data
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s revision %s: path %q not found in the artifact", s.Source, s.Artifact.Revision, dir)
	}
	return out, nil
}

// Paths lists every file of the snapshot, sorted.
func (s *Snapshot) Paths() []string {
	out := make([]string, 0, len(s.files))
	for p := range s.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// ErrNoArtifact is returned (wrapped) when a source exists but has no artifact yet;
// ErrNotFound when the source does not exist.
var (
	ErrNoArtifact = errors.New("no artifact yet")
	ErrNotFound   = errors.New("not found")
)

// Fetcher downloads and caches artifacts. The zero value is not usable: set Reader.
type Fetcher struct {
	// Reader reads the source objects in the management cluster.
	Reader client.Reader
	// HTTP downloads artifacts (default: http.DefaultClient).
	HTTP *http.Client
	// MaxCached is how many artifacts are kept in memory (default 64); the least
	// recently used goes first.
	MaxCached int
	// MaxSize bounds a downloaded artifact (default 256 MiB).
	MaxSize int64

	mu       sync.Mutex
	cache    map[string]*cached // by digest
	tick     uint64
	inflight map[string]*download
	fetches  int
}

type cached struct {
	files    map[string][]byte
	lastUsed uint64
}

type download struct {
	done  chan struct{}
	files map[string][]byte
	err   error
}

// Artifact reads the current artifact of a source. A missing source, or one with
// no artifact yet, is an error naming it (ErrNoArtifact for the latter).
func (f *Fetcher) Artifact(ctx context.Context, ref Ref) (Artifact, error) {
	if !IsSourceKind(ref.Kind) {
		return Artifact{}, fmt.Errorf("%s: unknown source kind %q (use %s)", ref, ref.Kind, strings.Join(Kinds(), ", "))
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(GVK(ref.Kind))
	if err := f.Reader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return Artifact{}, fmt.Errorf("%s %w", ref, ErrNotFound)
		}
		return Artifact{}, fmt.Errorf("reading %s: %w", ref, err)
	}
	url, _, _ := unstructured.NestedString(obj.Object, "status", "artifact", "url")
	if url == "" {
		why := readyMessage(obj)
		if why != "" {
			why = " (" + why + ")"
		}
		return Artifact{}, fmt.Errorf("%s: %w%s", ref, ErrNoArtifact, why)
	}
	revision, _, _ := unstructured.NestedString(obj.Object, "status", "artifact", "revision")
	digest, _, _ := unstructured.NestedString(obj.Object, "status", "artifact", "digest")
	return Artifact{URL: url, Revision: revision, Digest: digest}, nil
}

// readyMessage is the message of the source's Ready condition, if any.
func readyMessage(obj *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			msg, _ := m["message"].(string)
			return msg
		}
	}
	return ""
}

// Fetch returns the snapshot of a source's current artifact, downloading it only
// when no snapshot with its digest is cached. Concurrent fetches of one digest
// share one download.
func (f *Fetcher) Fetch(ctx context.Context, ref Ref) (*Snapshot, error) {
	art, err := f.Artifact(ctx, ref)
	if err != nil {
		return nil, err
	}
	files, err := f.files(ctx, ref, art)
	if err != nil {
		return nil, err
	}
	return &Snapshot{Source: ref, Artifact: art, files: files}, nil
}

// Downloads is how many artifacts were downloaded so far (tests and benchmarks).
func (f *Fetcher) Downloads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches
}

func (f *Fetcher) files(ctx context.Context, ref Ref, art Artifact) (map[string][]byte, error) {
	key := art.Digest
	if key == "" {
		key = "url:" + art.URL // no digest published: cache by URL (Flux's URLs name the revision)
	}
	f.mu.Lock()
	if f.cache == nil {
		f.cache, f.inflight = map[string]*cached{}, map[string]*download{}
	}
	f.tick++
	if c, ok := f.cache[key]; ok {
		c.lastUsed = f.tick
		f.mu.Unlock()
		return c.files, nil
	}
	if d, ok := f.inflight[key]; ok {
		f.mu.Unlock()
		select {
		case <-d.done:
			return d.files, d.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	d := &download{done: make(chan struct{})}
	f.inflight[key] = d
	f.fetches++
	f.mu.Unlock()

	d.files, d.err = f.download(ctx, ref, art)
	close(d.done)

	f.mu.Lock()
	delete(f.inflight, key)
	if d.err == nil {
		f.cache[key] = &cached{files: d.files, lastUsed: f.tick}
		f.evict()
	}
	f.mu.Unlock()
	return d.files, d.err
}

// evict drops the least recently used snapshots beyond MaxCached (f.mu held).
func (f *Fetcher) evict() {
	limit := f.MaxCached
	if limit <= 0 {
		limit = 64
	}
	for len(f.cache) > limit {
		oldest, at := "", ^uint64(0)
		for k, c := range f.cache {
			if c.lastUsed < at {
				oldest, at = k, c.lastUsed
			}
		}
		delete(f.cache, oldest)
	}
}

func (f *Fetcher) download(ctx context.Context, ref Ref, art Artifact) (map[string][]byte, error) {
	where := fmt.Sprintf("artifact of %s revision %s", ref, art.Revision)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, art.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: bad URL %q: %w", where, art.URL, err)
	}
	hc := f.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: downloading %s: %w", where, art.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: downloading %s: %s", where, art.URL, resp.Status)
	}
	limit := f.MaxSize
	if limit <= 0 {
		limit = 256 << 20
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: downloading %s: %w", where, art.URL, err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", where, limit)
	}
	if err := verifyDigest(art.Digest, raw); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	files, err := untar(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return files, nil
}

// verifyDigest checks raw against an "algorithm:hex" digest (sha256, sha384 or
// sha512; an empty digest is not checked).
func verifyDigest(digest string, raw []byte) error {
	if digest == "" {
		return nil
	}
	algo, want, ok := strings.Cut(digest, ":")
	if !ok {
		return fmt.Errorf("digest %q is not algorithm:hex", digest)
	}
	var h hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return fmt.Errorf("digest %q: unsupported algorithm %q", digest, algo)
	}
	h.Write(raw)
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("digest mismatch: the source says %s, the download is %s:%s", digest, algo, got)
	}
	return nil
}

// untar reads a gzipped tarball's regular files. Paths are cleaned; entries that
// would leave the archive's root are refused.
func untar(raw []byte) (map[string][]byte, error) {
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a gzipped tarball: %w", err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the tarball: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." || strings.HasPrefix(name, "../") || path.IsAbs(name) {
			return nil, fmt.Errorf("tarball entry %q leaves the archive", h.Name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s from the tarball: %w", name, err)
		}
		files[name] = data
	}
}

// RequestReconcile asks source-controller to fetch the source now instead of at
// its next interval, as `flux reconcile source` does (the
// reconcile.fluxcd.io/requestedAt annotation).
func RequestReconcile(ctx context.Context, c client.Client, ref Ref, now time.Time) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVK(ref.Kind))
	u.SetNamespace(ref.Namespace)
	u.SetName(ref.Name)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, now.Format(time.RFC3339Nano))
	if err := c.Patch(ctx, u, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return fmt.Errorf("requesting a reconcile of %s: %w", ref, err)
	}
	return nil
}
