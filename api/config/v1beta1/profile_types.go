package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Profile is the namespaced form of ClusterProfile: it only matches clusters in its
// own namespace and only references objects in that namespace, which makes it the
// unit of delegation to a tenant.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=profiles,scope=Namespaced,categories=tugboat
// +kubebuilder:printcolumn:name="SyncMode",type="string",JSONPath=".spec.syncMode",description="How clusters are kept in line"
// +kubebuilder:printcolumn:name="Tier",type="integer",JSONPath=".spec.tier",description="Lower tier wins conflicts"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type Profile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   Spec   `json:"spec,omitempty"`
	Status Status `json:"status,omitempty"`
}

// GetSpec returns the spec.
func (p *Profile) GetSpec() *Spec { return &p.Spec }

// GetStatus returns the status.
func (p *Profile) GetStatus() *Status { return &p.Status }

// GetConditions returns the status conditions (internal/conditions.Holder).
func (p *Profile) GetConditions() *[]metav1.Condition { return &p.Status.Conditions }

// +kubebuilder:object:root=true

// ProfileList is a list of Profiles.
type ProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Profile `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Profile{}, &ProfileList{})
}
