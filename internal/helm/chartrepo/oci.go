package chartrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
)

// OCINamespace is the repository prefix under which the server offers every
// packaged chart as an OCI artifact: oci://<host>/charts/<chart>:<version>.
const OCINamespace = "charts"

const ociManifestMediaType = "application/vnd.oci.image.manifest.v1+json"

// ociStore is a read-only, in-memory OCI distribution registry holding the charts
// of a repository folder, laid out as `helm push` lays them out.
type ociStore struct {
	blobs     map[string][]byte // digest → content
	manifests map[string]string // "<chart>:<version>" → manifest digest
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
	s := &ociStore{blobs: map[string][]byte{}, manifests: map[string]string{}}
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
		// OCI tags cannot hold "+": Helm pushes such versions with "_".
		tag := strings.ReplaceAll(ch.Metadata.Version, "+", "_")
		s.manifests[ch.Metadata.Name+":"+tag] = digestOf(manifest)
	}
	return s, nil
}

// serve answers the pull side of the OCI distribution API under /v2/.
func (s *ociStore) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		ociError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "read-only registry")
		return
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v2"), "/")
	if rest == "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
		return
	}
	// <namespace>/<chart>/(manifests|blobs)/<reference>
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || parts[0] != OCINamespace {
		ociError(w, http.StatusNotFound, "NAME_UNKNOWN", "no such repository")
		return
	}
	chart, kind, ref := parts[1], parts[2], parts[3]
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
		writeBlob(w, r, ociManifestMediaType, digest, data)
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
