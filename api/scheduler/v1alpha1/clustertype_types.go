package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterTypeSpec names the templates used to render assignments for a class of
// identical clusters. The ClusterType's labels drive scheduling and config matching.
type ClusterTypeSpec struct {
	// Reconciler is the name of the Template (type reconciler) that makes a cluster
	// of this type pull a deployment target's manifests.
	// +kubebuilder:validation:MinLength=1
	Reconciler string `json:"reconciler"`

	// NamespaceService is the name of the Template (type namespace) that creates a
	// deployment target's namespace.
	// +kubebuilder:validation:MinLength=1
	NamespaceService string `json:"namespaceService"`

	// ConfigType is the name of the Template (type config) that renders the platform
	// configuration of a deployment target. No platform-config file is written when empty.
	// +optional
	ConfigType string `json:"configType,omitempty"`
}

// ClusterTypeStatus is the observed state of a ClusterType.
type ClusterTypeStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:printcolumn:name="Reconciler",type=string,JSONPath=`.spec.reconciler`

// ClusterType is a class of identical clusters of an environment.
type ClusterType struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterTypeSpec   `json:"spec,omitempty"`
	Status ClusterTypeStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterTypeList contains a list of ClusterType.
type ClusterTypeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterType `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterType{}, &ClusterTypeList{})
}
