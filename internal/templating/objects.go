package templating

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// ClusterMap converts the object declaring a cluster (a SveltosCluster or a
// Cluster API Cluster) to the map templates see as .Cluster
// (.Cluster.metadata.name, .Cluster.metadata.labels, .Cluster.spec…).
// apiVersion and kind are filled in for a SveltosCluster that lacks them, and
// metadata.managedFields is left out.
func ClusterMap(cluster client.Object) (map[string]any, error) {
	m, err := ObjectMap(cluster)
	if err != nil {
		return nil, fmt.Errorf("converting cluster %s/%s to a map: %w", cluster.GetNamespace(), cluster.GetName(), err)
	}
	if _, sveltos := cluster.(*libv1beta1.SveltosCluster); sveltos && cluster.GetObjectKind().GroupVersionKind().Empty() {
		m["apiVersion"] = libv1beta1.GroupVersion.String()
		m["kind"] = libv1beta1.SveltosClusterKind
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return m, nil
}
