package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Cluster API: a managed cluster may be declared by a cluster.x-k8s.io Cluster
// instead of a SveltosCluster. Cluster API writes its kubeconfig into the Secret
// <name>-kubeconfig, key "value".
const (
	CAPIGroup               = "cluster.x-k8s.io"
	CAPIClusterKind         = "Cluster"
	CAPIKubeconfigSuffix    = "-kubeconfig"
	CAPIKubeconfigSecretKey = "value"
	capiRefAPIVersion       = CAPIGroup + "/v1beta1"
)

// ClusterID names a managed cluster: the API that declares it (SveltosCluster or
// Cluster API Cluster), its namespace and its name. A SveltosCluster and a
// Cluster API Cluster of the same namespace and name are different clusters.
// The zero Type means Sveltos.
// +kubebuilder:object:generate=false
type ClusterID struct {
	Type      ClusterType
	Namespace string
	Name      string
}

// SveltosClusterID names a SveltosCluster.
func SveltosClusterID(namespace, name string) ClusterID {
	return ClusterID{Type: ClusterTypeSveltos, Namespace: namespace, Name: name}
}

// CAPIClusterID names a Cluster API Cluster.
func CAPIClusterID(namespace, name string) ClusterID {
	return ClusterID{Type: ClusterTypeCapi, Namespace: namespace, Name: name}
}

// IsCAPI reports whether the cluster is a Cluster API Cluster.
func (id ClusterID) IsCAPI() bool { return id.Type == ClusterTypeCapi }

// Normal returns the ID with an empty Type spelled out as Sveltos, so that IDs
// compare equal whichever way they were built.
func (id ClusterID) Normal() ClusterID {
	if id.Type == "" {
		id.Type = ClusterTypeSveltos
	}
	return id
}

// Key is the namespace and name of the object that declares the cluster.
func (id ClusterID) Key() types.NamespacedName {
	return types.NamespacedName{Namespace: id.Namespace, Name: id.Name}
}

// String is "namespace/name" for a SveltosCluster and "capi:namespace/name"
// for a Cluster API Cluster, as messages and tables name them.
func (id ClusterID) String() string {
	if id.IsCAPI() {
		return "capi:" + id.Namespace + "/" + id.Name
	}
	return id.Namespace + "/" + id.Name
}

// Kind is the kind of the object that declares the cluster.
func (id ClusterID) Kind() string {
	if id.IsCAPI() {
		return CAPIClusterKind
	}
	return SveltosClusterKind
}

// Ref is the reference status fields store for the cluster (Cluster API
// clusters are referred to as cluster.x-k8s.io/v1beta1, as Sveltos does).
func (id ClusterID) Ref() corev1.ObjectReference {
	apiVersion := GroupVersion.String()
	if id.IsCAPI() {
		apiVersion = capiRefAPIVersion
	}
	return corev1.ObjectReference{APIVersion: apiVersion, Kind: id.Kind(), Namespace: id.Namespace, Name: id.Name}
}

// ClusterIDFromRef reads a cluster reference as profiles, sets and triggers
// write them: kind SveltosCluster (or empty) for a SveltosCluster, kind Cluster
// of group cluster.x-k8s.io (any version) for a Cluster API Cluster. An empty
// namespace means defaultNamespace. ok is false for any other kind.
func ClusterIDFromRef(ref corev1.ObjectReference, defaultNamespace string) (id ClusterID, ok bool) {
	ns := ref.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	switch {
	case ref.Kind == "" || ref.Kind == SveltosClusterKind:
		return SveltosClusterID(ns, ref.Name), true
	case ref.Kind == CAPIClusterKind && schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind).Group == CAPIGroup:
		return CAPIClusterID(ns, ref.Name), true
	}
	return ClusterID{}, false
}
