package templating

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ObjectMap converts an API object to the map form templates see
// (.Resource, .MgmtResources values). Byte slices (Secret data) become base64
// strings, as in the object's JSON. The result is a fresh map.
func ObjectMap(obj runtime.Object) (map[string]any, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return deepCopyMap(u.Object), nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T to a map: %w", obj, err)
	}
	return m, nil
}

// ClusterMap converts a SveltosCluster to the map templates see as .Cluster
// (.Cluster.metadata.name, .Cluster.metadata.labels, .Cluster.spec.data, …).
// apiVersion and kind are filled in when the typed object lacks them, and
// metadata.managedFields is left out.
func ClusterMap(cluster *libv1beta1.SveltosCluster) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cluster)
	if err != nil {
		return nil, fmt.Errorf("converting SveltosCluster %s/%s to a map: %w", cluster.Namespace, cluster.Name, err)
	}
	if cluster.APIVersion == "" {
		m["apiVersion"] = libv1beta1.GroupVersion.String()
	}
	if cluster.Kind == "" {
		m["kind"] = libv1beta1.SveltosClusterKind
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return m, nil
}
