package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MessagingMatchCriteria selects CloudEvents received for a source cluster
// (over NATS, JetStream or Tugboat's HTTP endpoint). Every field is a regular
// expression (Go syntax, unanchored: "^...$" matches a whole value); an empty
// field matches anything. A CloudEvent matches when every set field matches.
type MessagingMatchCriteria struct {
	// Subject matches the NATS/JetStream subject the CloudEvent was received on
	// (for the HTTP endpoint, its optional subject query parameter).
	// +optional
	Subject string `json:"subject,omitempty"`

	// CloudEventSource matches the CloudEvent's source attribute.
	// +optional
	CloudEventSource string `json:"cloudEventSource,omitempty"`

	// CloudEventType matches the CloudEvent's type attribute.
	// +optional
	CloudEventType string `json:"cloudEventType,omitempty"`

	// CloudEventSubject matches the CloudEvent's subject attribute.
	// +optional
	CloudEventSubject string `json:"cloudEventSubject,omitempty"`
}

// EventSourceSpec says which resources, in a cluster, make up an event, or
// which CloudEvents received for it are events.
//
// +kubebuilder:validation:XValidation:rule="(has(self.resourceSelectors) && size(self.resourceSelectors) > 0) || (has(self.messagingMatchCriteria) && size(self.messagingMatchCriteria) > 0)",message="an EventSource needs resourceSelectors (Kubernetes resources) or messagingMatchCriteria (CloudEvents)"
// +kubebuilder:validation:XValidation:rule="!(has(self.resourceSelectors) && size(self.resourceSelectors) > 0 && has(self.messagingMatchCriteria) && size(self.messagingMatchCriteria) > 0)",message="resourceSelectors and messagingMatchCriteria cannot be combined: use one EventSource (and EventTrigger) for resources and another for CloudEvents"
// +kubebuilder:validation:XValidation:rule="!has(self.aggregatedSelection) || size(self.aggregatedSelection) == 0 || (has(self.resourceSelectors) && size(self.resourceSelectors) > 0)",message="aggregatedSelection filters what resourceSelectors select: it needs resourceSelectors and does not apply to messagingMatchCriteria"
type EventSourceSpec struct {
	// ResourceSelectors select the resources to watch. A resource is part of the
	// event when any selector matches it.
	// +optional
	ResourceSelectors []ResourceSelector `json:"resourceSelectors,omitempty"`

	// MessagingMatchCriteria select the CloudEvents, received for a source
	// cluster, that are events: a CloudEvent is one when any criterion matches it.
	// +optional
	MessagingMatchCriteria []MessagingMatchCriteria `json:"messagingMatchCriteria,omitempty"`

	// AggregatedSelection is a Lua program that sees every resource the
	// resourceSelectors select in a cluster at once and returns the subset that
	// makes up the event. It defines function evaluate(), which reads the global
	// resources (an array of the selected objects, each as a table) and returns a
	// table whose field resources is the array of objects that count (matched
	// back to the selected ones by apiVersion, kind, namespace and name; a table
	// matching none is ignored) and whose optional field message is logged. A
	// missing or empty resources field means no resource counts. A script that
	// does not compile makes the EventSource not Ready (SelectorsValid False) with
	// a Warning Event; one that fails when it runs fails the triggers' source
	// cluster with its message and a Warning Event on the EventSource; either way
	// what the triggers generated before is kept.
	// +optional
	AggregatedSelection string `json:"aggregatedSelection,omitempty"`

	// CollectResources makes the full matching objects, not only their references,
	// available to EventTrigger templates (.Resource / .Resources).
	// +kubebuilder:default=false
	// +optional
	CollectResources bool `json:"collectResources,omitempty"`
}

// EventSourceStatus reports problems with the EventSource itself.
type EventSourceStatus struct {
	// Conditions report, for example, selectors whose CEL or Lua does not compile.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// EventSource defines what counts as an event in a cluster: the set of resources
// matching its selectors. An event happens whenever that set changes (or, with
// collectResources, whenever the content of a member changes).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=eventsources,scope=Cluster,categories=tugboat
// +kubebuilder:printcolumn:name="Collect",type="boolean",JSONPath=".spec.collectResources",description="Whether full objects are passed to templates"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type EventSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EventSourceSpec   `json:"spec,omitempty"`
	Status EventSourceStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// EventSourceList is a list of EventSources.
type EventSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EventSource `json:"items"`
}

func init() {
	SchemeBuilder.Register(&EventSource{}, &EventSourceList{})
}

// GetConditions returns the status conditions (internal/conditions.Holder).
func (s *EventSource) GetConditions() *[]metav1.Condition { return &s.Status.Conditions }
