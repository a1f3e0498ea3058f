package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AssignmentSpec places one deployment target on one cluster type.
type AssignmentSpec struct {
	// DeploymentTarget is the DeploymentTarget's name.
	// +kubebuilder:validation:MinLength=1
	DeploymentTarget string `json:"deploymentTarget"`

	// ClusterType is the ClusterType's name.
	// +kubebuilder:validation:MinLength=1
	ClusterType string `json:"clusterType"`
}

// AssignmentStatus is the observed state of an Assignment.
type AssignmentStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.deploymentTarget`
// +kubebuilder:printcolumn:name="ClusterType",type=string,JSONPath=`.spec.clusterType`

// Assignment is a result of scheduling: a deployment target runs on a cluster type.
type Assignment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AssignmentSpec   `json:"spec,omitempty"`
	Status AssignmentStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AssignmentList contains a list of Assignment.
type AssignmentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Assignment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Assignment{}, &AssignmentList{})
}
