package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BaseRepoSpec is the promoted commit of the control-plane main branch an
// environment uses (templates, workload registrations).
type BaseRepoSpec struct {
	RepositoryReference `json:",inline"`

	// Commit pins the main branch to a promoted commit; the branch head when empty.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// BaseRepoStatus is the observed state of a BaseRepo.
type BaseRepoStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,path=baserepos
// +kubebuilder:printcolumn:name="Commit",type=string,JSONPath=`.spec.commit`

// BaseRepo points an environment at the main branch of the control-plane repository.
type BaseRepo struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BaseRepoSpec   `json:"spec,omitempty"`
	Status BaseRepoStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BaseRepoList contains a list of BaseRepo.
type BaseRepoList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BaseRepo `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BaseRepo{}, &BaseRepoList{})
}
