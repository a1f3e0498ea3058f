package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Set is the namespaced form of ClusterSet: it only considers clusters in its own
// namespace, and Profiles in that namespace reference it through setRefs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=sets,scope=Namespaced,categories=tugboat
// +kubebuilder:printcolumn:name="MaxReplicas",type="integer",JSONPath=".spec.maxReplicas",description="Clusters selected at most"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type Set struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SetSpec   `json:"spec,omitempty"`
	Status SetStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SetList is a list of Sets.
type SetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Set `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Set{}, &SetList{})
}
