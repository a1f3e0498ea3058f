package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReportPhase is how far an EventReport has been processed.
// +kubebuilder:validation:Enum=WaitingForDelivery;Delivering;Processed
type ReportPhase string

const (
	ReportPhaseWaitingForDelivery ReportPhase = "WaitingForDelivery"
	ReportPhaseDelivering         ReportPhase = "Delivering"
	ReportPhaseProcessed          ReportPhase = "Processed"
)

// EventReportSpec records what an EventSource matches in one cluster.
type EventReportSpec struct {
	// ClusterNamespace is the namespace of the source cluster.
	ClusterNamespace string `json:"clusterNamespace"`

	// ClusterName is the name of the source cluster.
	ClusterName string `json:"clusterName"`

	// ClusterType is the type of the source cluster.
	ClusterType ClusterType `json:"clusterType"`

	// EventSourceName is the EventSource evaluated.
	EventSourceName string `json:"eventSourceName"`

	// MatchingResources are the resources that currently match.
	// +optional
	MatchingResources []corev1.ObjectReference `json:"matchingResources,omitempty"`

	// Resources holds the matching objects as YAML documents separated by "---"
	// (only when the EventSource collects resources).
	// +optional
	Resources []byte `json:"resources,omitempty"`

	// CloudEvents, in Sveltos, lists the CloudEvents an EventSource's
	// messagingMatchCriteria matched, as reported by the agent in the cluster.
	// Tugboat runs no agent and never writes it: the CloudEvents it receives
	// are recorded per EventTrigger and source cluster (ConfigMaps labelled
	// eventtrigger.lib.projectsveltos.io/cloudevents, see docs/cloudevents.md),
	// and EventReports are written for resourceSelectors only. Kept so that
	// Sveltos EventReports decode unchanged.
	// +optional
	CloudEvents [][]byte `json:"cloudEvents,omitempty"`
}

// EventReportStatus is the processing state of the report.
type EventReportStatus struct {
	// Phase is how far the report has been processed.
	// +optional
	Phase *ReportPhase `json:"phase,omitempty"`

	// FailureMessage says why evaluating the EventSource failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
}

// EventReport is the record of the resources an EventSource matches in one cluster.
// There is one per (EventSource, cluster), in the cluster's namespace, named
// sveltos--<eventsource>--<cluster> (see EventReportName).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=eventreports,scope=Namespaced,categories=tugboat
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".spec.clusterName",description="Source cluster"
// +kubebuilder:printcolumn:name="EventSource",type="string",JSONPath=".spec.eventSourceName",description="EventSource evaluated"
// +kubebuilder:printcolumn:name="Phase",type="string",JSONPath=".status.phase",priority=1
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type EventReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EventReportSpec   `json:"spec,omitempty"`
	Status EventReportStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// EventReportList is a list of EventReports.
type EventReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EventReport `json:"items"`
}

func init() {
	SchemeBuilder.Register(&EventReport{}, &EventReportList{})
}
