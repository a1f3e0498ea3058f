package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	RoleRequestKind = "RoleRequest"

	// RoleRequestLabel is set on every object made for a RoleRequest, in the
	// management and the managed clusters, to the RoleRequest's name.
	RoleRequestLabel = "projectsveltos.io/role-request"

	// ServiceAccountNameLabel and ServiceAccountNamespaceLabel name the tenant
	// identity a ClusterProfile or Profile is deployed as. Tugboat sets them on
	// profiles (from the user who created them, as Sveltos does) and deploys
	// impersonating that identity; profiles without them deploy as the manager.
	ServiceAccountNameLabel      = "projectsveltos.io/serviceaccount-name"
	ServiceAccountNamespaceLabel = "projectsveltos.io/serviceaccount-namespace"
)

// RoleRequestSpec grants a tenant's service account rights in the selected clusters.
// +kubebuilder:validation:XValidation:rule="!has(self.expirationSeconds)",message="expirationSeconds is not supported by this version of Tugboat: it issues no tokens, it impersonates the tenant's ServiceAccount in each cluster"
type RoleRequestSpec struct {
	// ClusterSelector selects the clusters the rights are granted in.
	// +optional
	ClusterSelector Selector `json:"selector,omitempty"`

	// RoleRefs are ConfigMaps or Secrets (in the management cluster) holding the
	// Roles and ClusterRoles to grant; each is created in every selected cluster
	// and bound to the tenant's identity there (a binding of the role's name).
	// An empty namespace is the cluster's namespace; an optional ref that is
	// missing is skipped. Templates are not supported.
	// A ref with remoteURL takes its Roles and ClusterRoles from the URL
	// instead (one or more YAML/JSON documents, fetched by the manager once per
	// remoteURL.interval, with the credentials of remoteURL.secretRef; an empty
	// secretRef namespace is the cluster's namespace); kind and name then only
	// name the source. A fetch that fails fails the grant in each cluster with
	// a message naming the ref and the URL, and what was granted stays.
	// +kubebuilder:validation:XValidation:rule="self.all(r, r.kind == 'ConfigMap' || r.kind == 'Secret')",message="roleRefs must name ConfigMaps or Secrets holding Roles/ClusterRoles"
	// +kubebuilder:validation:XValidation:rule="self.all(r, !has(r.deploymentType) || r.deploymentType == 'Remote')",message="roleRefs are always deployed to the managed clusters: deploymentType must be Remote or unset"
	// +kubebuilder:validation:XValidation:rule="self.all(r, !has(r.path) || r.path == '')",message="path does not apply to roleRefs (ConfigMaps and Secrets hold the roles directly)"
	// +kubebuilder:validation:XValidation:rule="self.all(r, !has(r.tier))",message="tier does not apply to roleRefs"
	// +kubebuilder:validation:XValidation:rule="self.all(r, !has(r.skipNamespaceCreation) || !r.skipNamespaceCreation)",message="skipNamespaceCreation is not supported in roleRefs by this version of Tugboat (a Role's namespace must exist in the cluster)"
	// +kubebuilder:validation:XValidation:rule="self.all(r, !has(r.force) || !r.force)",message="force is not supported in roleRefs by this version of Tugboat"
	// +kubebuilder:validation:XValidation:rule="self.all(r, !has(r.remoteURL) || !has(r.remoteURL.template) || !r.remoteURL.template)",message="remoteURL.template is not supported in roleRefs by this version of Tugboat (templates in roleRefs are not supported)"
	// +optional
	RoleRefs []PolicyRef `json:"roleRefs,omitempty"`

	// ExpirationSeconds is, in Sveltos, how long the token issued for the
	// tenant's identity is valid. Tugboat issues no token (it impersonates the
	// identity), so setting it is refused.
	// +kubebuilder:validation:Minimum=600
	// +optional
	ExpirationSeconds *int64 `json:"expirationSeconds,omitempty"`

	// ServiceAccountName is the tenant admin's service account (in the management cluster).
	// +kubebuilder:validation:MinLength=1
	ServiceAccountName string `json:"serviceAccountName"`

	// ServiceAccountNamespace is that service account's namespace.
	// +kubebuilder:validation:MinLength=1
	ServiceAccountNamespace string `json:"serviceAccountNamespace"`
}

// RoleRequestStatus is what the controller last did.
type RoleRequestStatus struct {
	// MatchingClusterRefs are the clusters currently selected.
	// +optional
	MatchingClusterRefs []corev1.ObjectReference `json:"matchingClusters,omitempty"`
	// ClusterInfo is, per cluster, the hash of the roles granted and any failure.
	// +optional
	ClusterInfo []ClusterInfo `json:"clusterInfo,omitempty"`
	// FailureMessage is an error that is not about one cluster.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=rolerequests,scope=Cluster
// +kubebuilder:subresource:status
// +kubebuilder:storageversion

// RoleRequest grants a tenant admin a set of rights in the clusters it selects.
type RoleRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RoleRequestSpec   `json:"spec,omitempty"`
	Status RoleRequestStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RoleRequestList is a list of RoleRequests.
type RoleRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RoleRequest `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RoleRequest{}, &RoleRequestList{})
}
