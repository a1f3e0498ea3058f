package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterProfile deploys add-ons (resources, Helm charts, kustomizations) to every
// matching cluster, in any namespace. References with an empty namespace resolve to
// the namespace of the cluster being deployed to.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clusterprofiles,scope=Cluster,categories=tugboat
// +kubebuilder:printcolumn:name="SyncMode",type="string",JSONPath=".spec.syncMode",description="How clusters are kept in line"
// +kubebuilder:printcolumn:name="Tier",type="integer",JSONPath=".spec.tier",description="Lower tier wins conflicts"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ClusterProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   Spec   `json:"spec,omitempty"`
	Status Status `json:"status,omitempty"`
}

// GetSpec returns the spec.
func (p *ClusterProfile) GetSpec() *Spec { return &p.Spec }

// GetStatus returns the status.
func (p *ClusterProfile) GetStatus() *Status { return &p.Status }

// GetConditions returns the status conditions (internal/conditions.Holder).
func (p *ClusterProfile) GetConditions() *[]metav1.Condition { return &p.Status.Conditions }

// +kubebuilder:object:root=true

// ClusterProfileList is a list of ClusterProfiles.
type ClusterProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterProfile `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterProfile{}, &ClusterProfileList{})
}
