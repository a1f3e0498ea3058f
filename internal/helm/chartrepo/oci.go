package chartrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
)

// OCINamespace is the repository prefix under which the server offers every
// packaged chart as an OCI artifact: oci://<host>/charts/<chart>:<version>.
const OCINamespace = "charts"

const ociManifestMediaType = "application/vnd.oci.image.manifest.v1+json"

// ociStore is an in-memory OCI distribution registry holding the charts of a
// repository folder, laid out as `helm push` lays them out. It also accepts
// pushes of blobs and manifests into the charts' repositories (what cosign sign
// does when it stores a signature beside a chart).
type ociStore struct {
	mu         sync.Mutex
	blobs      map[string][]byte // digest → content
	manifests  map[string]string // "<chart>:<tag>" → manifest digest
	mediaTypes map[string]string // manifest digest → media type
	uploads    int
}

type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int    `json:"size"`
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func newOCIStore(dir string) (*ociStore, error) {
	s := &ociStore{blobs: map[string][]byte{}, manifests: map[string]string{}, mediaTypes: map[string]string{}}
	archives, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil {
		return nil, err
	}
	for _, a := range archives {
		data, err := os.ReadFile(a)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", a, err)
		}
		ch, err := loader.LoadFile(a)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", a, err)
		}
		config, err := json.Marshal(ch.Metadata)
		if err != nil {
			return nil, fmt.Errorf("chart metadata of %s: %w", a, err)
		}
		manifest, err := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     ociManifestMediaType,
			"config":        ociDescriptor{MediaType: registry.ConfigMediaType, Digest: digestOf(config), Size: len(config)},
			"layers":        []ociDescriptor{{MediaType: registry.ChartLayerMediaType, Digest: digestOf(data), Size: len(data)}},
			"annotations": map[string]string{
				"org.opencontainers.image.title":   ch.Metadata.Name,
				"org.opencontainers.image.version": ch.Metadata.Version,
			},
		})
		if err != nil {
			return nil, err
		}
		s.blobs[digestOf(config)] = config
		s.blobs[digestOf(data)] = data
		s.blobs[digestOf(manifest)] = manifest
		s.mediaTypes[digestOf(manifest)] = ociManifestMediaType
		// OCI tags cannot hold "+": Helm pushes such versions with "_".
		tag := strings.ReplaceAll(ch.Metadata.Version, "+", "_")
		s.manifests[ch.Metadata.Name+":"+tag] = digestOf(manifest)
	}
	return s, nil
}

// serve answers the OCI distribution API under /v2/: pulls, and pushes of
// blobs (POST then PUT of the whole blob) and manifests.
func (s *ociStore) serve(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v2"), "/")
	if rest == "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
		return
	}
	// <namespace>/<chart>/(manifests|blobs)/<reference>, or .../blobs/uploads/[<id>]
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) < 3 || parts[0] != OCINamespace {
		ociError(w, http.StatusNotFound, "NAME_UNKNOWN", "no such repository")
		return
	}
	chart := parts[1]
	if parts[2] == "blobs" && len(parts) >= 4 && parts[3] == "uploads" {
		s.upload(w, r, chart)
		return
	}
	if len(parts) != 4 {
		ociError(w, http.StatusNotFound, "UNSUPPORTED", "unsupported endpoint")
		return
	}
	kind, ref := parts[2], parts[3]
	if r.Method == http.MethodPut && kind == "manifests" {
		s.putManifest(w, r, chart, ref)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		ociError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "unsupported method")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "manifests":
		digest := ref
		if !strings.HasPrefix(ref, "sha256:") {
			digest = s.manifests[chart+":"+ref]
		}
		data, ok := s.blobs[digest]
		if !ok || digest == "" {
			ociError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "no such manifest")
			return
		}
		mt := s.mediaTypes[digest]
		if mt == "" {
			mt = ociManifestMediaType
		}
		writeBlob(w, r, mt, digest, data)
	case "blobs":
		data, ok := s.blobs[ref]
		if !ok {
			ociError(w, http.StatusNotFound, "BLOB_UNKNOWN", "no such blob")
			return
		}
		writeBlob(w, r, "application/octet-stream", ref, data)
	default:
		ociError(w, http.StatusNotFound, "UNSUPPORTED", "unsupported endpoint")
	}
}

// upload starts a blob upload (POST, answered with its location) or completes
// it with the whole blob (PUT <location>?digest=).
func (s *ociStore) upload(w http.ResponseWriter, r *http.Request, chart string) {
	switch r.Method {
	case http.MethodPost:
		s.mu.Lock()
		s.uploads++
		id := s.uploads
		s.mu.Unlock()
		w.Header().Set("Location", fmt.Sprintf("/v2/%s/%s/blobs/uploads/%d", OCINamespace, chart, id))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPut:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			ociError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", err.Error())
			return
		}
		digest := r.URL.Query().Get("digest")
		if digest != digestOf(data) {
			ociError(w, http.StatusBadRequest, "DIGEST_INVALID", "digest does not match the content")
			return
		}
		s.mu.Lock()
		s.blobs[digest] = data
		s.mu.Unlock()
		w.Header().Set("Location", fmt.Sprintf("/v2/%s/%s/blobs/%s", OCINamespace, chart, digest))
		w.Header().Set("Docker-Content-Digest", digest)
		w.WriteHeader(http.StatusCreated)
	default:
		ociError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "unsupported method")
	}
}

// putManifest stores a manifest under its digest and, when ref is a tag, tags it.
func (s *ociStore) putManifest(w http.ResponseWriter, r *http.Request, chart, ref string) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		ociError(w, http.StatusBadRequest, "MANIFEST_INVALID", err.Error())
		return
	}
	digest := digestOf(data)
	if strings.HasPrefix(ref, "sha256:") && ref != digest {
		ociError(w, http.StatusBadRequest, "DIGEST_INVALID", "digest does not match the manifest")
		return
	}
	s.mu.Lock()
	s.blobs[digest] = data
	s.mediaTypes[digest] = r.Header.Get("Content-Type")
	if !strings.HasPrefix(ref, "sha256:") {
		s.manifests[chart+":"+ref] = digest
	}
	s.mu.Unlock()
	w.Header().Set("Location", fmt.Sprintf("/v2/%s/%s/manifests/%s", OCINamespace, chart, digest))
	w.Header().Set("Docker-Content-Digest", digest)
	w.WriteHeader(http.StatusCreated)
}

func writeBlob(w http.ResponseWriter, r *http.Request, mediaType, digest string, data []byte) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(data)
}

func ociError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}
