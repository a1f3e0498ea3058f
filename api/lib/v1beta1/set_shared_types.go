package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
)

// SetSpec is the spec shared by ClusterSet and Set: a pool of candidate clusters
// (selected by labels and/or listed) from which at most MaxReplicas are chosen.
type SetSpec struct {
	// ClusterSelector selects candidate clusters by label. An empty selector selects none.
	// +optional
	ClusterSelector Selector `json:"clusterSelector,omitempty"`

	// ClusterRefs lists candidate clusters explicitly, in addition to the selector.
	// +optional
	ClusterRefs []corev1.ObjectReference `json:"clusterRefs,omitempty"`

	// MaxReplicas is how many candidates are selected at once; healthy clusters are
	// preferred and a selected cluster going Down is replaced. 0 selects none.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxReplicas int32 `json:"maxReplicas,omitempty"`
}

// SetStatus is the status shared by ClusterSet and Set.
type SetStatus struct {
	// MatchingClusterRefs are all the candidate clusters.
	// +optional
	MatchingClusterRefs []corev1.ObjectReference `json:"matchingClusterRefs,omitempty"`

	// SelectedClusterRefs are the candidates currently selected (at most MaxReplicas).
	// +optional
	SelectedClusterRefs []corev1.ObjectReference `json:"selectedClusterRefs,omitempty"`

	// FailureMessage says why selection failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
}
