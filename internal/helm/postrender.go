package helm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// PatchesHashLabel is the release label holding the hash of the patches its
// objects were post-rendered with: a change of patches alone upgrades the release.
const PatchesHashLabel = "tugboat.dev/patches-hash"

func hashPatches(patches []libv1beta1.Patch) (string, error) {
	if len(patches) == 0 {
		return "", nil
	}
	data, err := json.Marshal(patches)
	if err != nil {
		return "", fmt.Errorf("hashing patches: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16], nil
}

// patchRenderer is Helm's post-renderer applying a profile's patches to the
// objects a chart renders, with the same rules (deployer.ApplyPatches) as for the
// profile's other objects.
type patchRenderer struct {
	patches []libv1beta1.Patch
}

// Run decodes every manifest, patches it and writes them back as YAML documents.
func (p patchRenderer) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	out := &bytes.Buffer{}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(rendered.Bytes()), 4096)
	for {
		obj := map[string]any{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("post-rendering: reading the chart's manifests: %w", err)
		}
		if len(obj) == 0 {
			continue
		}
		patched, err := deployer.ApplyPatches(&unstructured.Unstructured{Object: obj}, p.patches)
		if err != nil {
			return nil, fmt.Errorf("post-rendering: %w", err)
		}
		data, err := yaml.Marshal(patched.Object)
		if err != nil {
			return nil, fmt.Errorf("post-rendering: %w", err)
		}
		out.WriteString("---\n")
		out.Write(data)
	}
	return out, nil
}
