package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GitOpsRepoSpec is where the scheduler writes an environment's rendered manifests.
type GitOpsRepoSpec struct {
	RepositoryReference `json:",inline"`
}

// GitOpsRepoStatus is the observed state of a GitOpsRepo.
type GitOpsRepoStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastPushedCommit is the commit the scheduler last pushed.
	// +optional
	LastPushedCommit string `json:"lastPushedCommit,omitempty"`

	// PullRequest is the URL of the scheduler's open pull request, if any.
	// +optional
	PullRequest string `json:"pullRequest,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,path=gitopsrepos
// +kubebuilder:printcolumn:name="Repo",type=string,JSONPath=`.spec.repo`
// +kubebuilder:printcolumn:name="Branch",type=string,JSONPath=`.spec.branch`

// GitOpsRepo is the branch/folder of the platform GitOps repository an environment
// is rendered into.
type GitOpsRepo struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GitOpsRepoSpec   `json:"spec,omitempty"`
	Status GitOpsRepoStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// GitOpsRepoList contains a list of GitOpsRepo.
type GitOpsRepoList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitOpsRepo `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GitOpsRepo{}, &GitOpsRepoList{})
}
