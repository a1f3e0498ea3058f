package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AssignmentPackageSpec holds the rendered files of one Assignment.
type AssignmentPackageSpec struct {
	// ReconcilerManifests are the rendered reconciler documents.
	// +optional
	ReconcilerManifests []string `json:"reconcilerManifests,omitempty"`

	// NamespaceManifests are the rendered namespace documents.
	// +optional
	NamespaceManifests []string `json:"namespaceManifests,omitempty"`

	// ConfigManifests are the rendered platform-config documents.
	// +optional
	ConfigManifests []string `json:"configManifests,omitempty"`

	// ContentType is the kind of text the reconciler manifests are; yaml when empty.
	// +optional
	ContentType ContentType `json:"contentType,omitempty"`
}

// AssignmentPackageStatus is the observed state of an AssignmentPackage.
type AssignmentPackageStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced

// AssignmentPackage is the rendered output of an Assignment.
type AssignmentPackage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AssignmentPackageSpec   `json:"spec,omitempty"`
	Status AssignmentPackageStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AssignmentPackageList contains a list of AssignmentPackage.
type AssignmentPackageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AssignmentPackage `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AssignmentPackage{}, &AssignmentPackageList{})
}
