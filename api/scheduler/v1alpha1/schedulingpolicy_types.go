package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeploymentTargetSelector selects deployment targets.
type DeploymentTargetSelector struct {
	// Workspace, when set, must equal the target's workspace.
	// +optional
	Workspace string `json:"workspace,omitempty"`

	// LabelSelector is matched against the target's labels; empty or absent selects all.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
}

// ClusterTypeSelector selects cluster types.
type ClusterTypeSelector struct {
	// LabelSelector is matched against the cluster type's labels; empty or absent selects all.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
}

// SchedulingPolicySpec assigns every selected deployment target to every selected cluster type.
type SchedulingPolicySpec struct {
	DeploymentTargetSelector DeploymentTargetSelector `json:"deploymentTargetSelector"`
	ClusterTypeSelector      ClusterTypeSelector      `json:"clusterTypeSelector"`
}

// SchedulingPolicyStatus is the observed state of a SchedulingPolicy.
type SchedulingPolicyStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced

// SchedulingPolicy maps deployment targets to cluster types within an environment.
type SchedulingPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SchedulingPolicySpec   `json:"spec,omitempty"`
	Status SchedulingPolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SchedulingPolicyList contains a list of SchedulingPolicy.
type SchedulingPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SchedulingPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SchedulingPolicy{}, &SchedulingPolicyList{})
}
