package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ReportAction is what deploying would do to one object.
// +kubebuilder:validation:Enum=Create;Update;Delete;"No Action";Conflict
type ReportAction string

const (
	ReportActionCreate   ReportAction = "Create"
	ReportActionUpdate   ReportAction = "Update"
	ReportActionDelete   ReportAction = "Delete"
	ReportActionNoAction ReportAction = "No Action"
	ReportActionConflict ReportAction = "Conflict"
)

// ClusterReportSpec names the cluster the report is about.
type ClusterReportSpec struct {
	// ClusterNamespace is the namespace of the cluster.
	ClusterNamespace string `json:"clusterNamespace"`

	// ClusterName is the name of the cluster.
	ClusterName string `json:"clusterName"`

	// ClusterType is the type of the cluster.
	ClusterType libv1beta1.ClusterType `json:"clusterType"`
}

// ResourceReport is what deploying would do to one object.
type ResourceReport struct {
	// Resource is the object as YAML (at least apiVersion, kind and metadata name/namespace).
	Resource string `json:"resource"`

	// Action is what would happen to it.
	// +optional
	Action ReportAction `json:"action,omitempty"`

	// Message explains the action: what differs for an update, who owns it for a
	// conflict. It may hold a unified diff.
	// +optional
	Message string `json:"message,omitempty"`
}

// ClusterReportStatus holds the would-be changes, per feature.
type ClusterReportStatus struct {
	// ResourceReports are for objects from policyRefs.
	// +optional
	ResourceReports []ResourceReport `json:"resourceReports,omitempty"`

	// HelmResourceReports are for Helm releases and their objects.
	// +optional
	HelmResourceReports []ResourceReport `json:"helmResourceReports,omitempty"`

	// KustomizeResourceReports are for objects from kustomizationRefs.
	// +optional
	KustomizeResourceReports []ResourceReport `json:"kustomizeResourceReports,omitempty"`
}

// ClusterReport lists what a profile in DryRun mode would change in one cluster. It
// lives in the cluster's namespace, named by ClusterReportName.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clusterreports,scope=Namespaced,categories=tugboat
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".spec.clusterName",description="Cluster the report is about"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ClusterReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterReportSpec   `json:"spec,omitempty"`
	Status ClusterReportStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterReportList is a list of ClusterReports.
type ClusterReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterReport `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterReport{}, &ClusterReportList{})
}
