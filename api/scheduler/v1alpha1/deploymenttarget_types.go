package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeploymentTargetSpec is where and from which manifests a workload is deployed.
type DeploymentTargetSpec struct {
	// Environment is the environment the target belongs to.
	// +kubebuilder:validation:MinLength=1
	Environment string `json:"environment"`

	// Manifests locates the target's manifests: repo, branch and path, plus any
	// extra key a template may use.
	// +optional
	Manifests map[string]string `json:"manifests,omitempty"`

	// ConfigSchemas names ConfigSchema objects the target's platform config must satisfy.
	// +optional
	ConfigSchemas []string `json:"configSchemas,omitempty"`
}

// DeploymentTargetStatus is the observed state of a DeploymentTarget.
type DeploymentTargetStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:printcolumn:name="Environment",type=string,JSONPath=`.spec.environment`

// DeploymentTarget is one target of a Workload, named <workload>-<target>, labelled
// with the target's and the workload's labels plus workload and workspace.
type DeploymentTarget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DeploymentTargetSpec   `json:"spec,omitempty"`
	Status DeploymentTargetStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// DeploymentTargetList contains a list of DeploymentTarget.
type DeploymentTargetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DeploymentTarget `json:"items"`
}

func init() {
	SchemeBuilder.Register(&DeploymentTarget{}, &DeploymentTargetList{})
}
