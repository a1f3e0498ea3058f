package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorkloadDeploymentTarget is one deployment target declared by a Workload.
type WorkloadDeploymentTarget struct {
	// Name is the target's name within the workload.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Labels are matched by scheduling policies and platform ConfigMaps.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	DeploymentTargetSpec `json:",inline"`
}

// WorkloadSpec lists the deployment targets of a workload.
type WorkloadSpec struct {
	// DeploymentTargets are the places, per environment, the workload runs.
	// +optional
	DeploymentTargets []WorkloadDeploymentTarget `json:"deploymentTargets,omitempty"`

	// ConfigSchemas names ConfigSchema objects every target's platform config must satisfy.
	// +optional
	ConfigSchemas []string `json:"configSchemas,omitempty"`
}

// WorkloadStatus is the observed state of a Workload.
type WorkloadStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced

// Workload is written by an application team in its own repository: where the
// manifests of each of its deployment targets live.
type Workload struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WorkloadSpec   `json:"spec,omitempty"`
	Status WorkloadStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WorkloadList contains a list of Workload.
type WorkloadList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Workload `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Workload{}, &WorkloadList{})
}
