package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorkloadRegistrationSpec onboards an application team's Workload.
type WorkloadRegistrationSpec struct {
	// Workload points at the folder of the team's repository holding the Workload manifest.
	Workload RepositoryReference `json:"workload"`

	// Workspace is the team (group of workloads) the workload belongs to.
	// +kubebuilder:validation:MinLength=1
	Workspace string `json:"workspace"`
}

// WorkloadRegistrationStatus is the observed state of a WorkloadRegistration.
type WorkloadRegistrationStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:printcolumn:name="Workspace",type=string,JSONPath=`.spec.workspace`

// WorkloadRegistration registers an application team's workload with the platform.
type WorkloadRegistration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WorkloadRegistrationSpec   `json:"spec,omitempty"`
	Status WorkloadRegistrationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WorkloadRegistrationList contains a list of WorkloadRegistration.
type WorkloadRegistrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkloadRegistration `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WorkloadRegistration{}, &WorkloadRegistrationList{})
}
