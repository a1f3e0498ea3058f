package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// manifestObjects parses a release manifest (YAML documents separated by ---).
// Objects without a namespace get defaultNamespace when mapper says their kind is
// namespaced — or when the kind is unknown to the cluster, since Helm applies
// unscoped objects to the release namespace.
func manifestObjects(manifest, defaultNamespace string, mapper meta.RESTMapper) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("object without apiVersion/kind: %v", obj)
		}
		if u.GetNamespace() == "" && namespaced(mapper, u.GroupVersionKind()) {
			u.SetNamespace(defaultNamespace)
		}
		out = append(out, u)
	}
	return out, nil
}

func namespaced(mapper meta.RESTMapper, gvk schema.GroupVersionKind) bool {
	if mapper == nil {
		return true
	}
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return true
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace
}
