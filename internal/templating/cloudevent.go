package templating

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// CloudEventContext is the data of an instantiate-stage template of an
// EventTrigger with oneForEvent: true whose EventSource selects CloudEvents:
// .Cluster and .CloudEvent (a map: specversion, id, source, type, subject,
// time, datacontenttype, dataschema, extensions by name, and data — decoded
// into maps and lists when it is JSON, else a string). The resource fields and
// the plural .CloudEvents are render errors.
type CloudEventContext struct {
	// Cluster is the source cluster as a map.
	Cluster map[string]any
	// CloudEvent is the CloudEvent the generated objects stand for.
	CloudEvent map[string]any
}

// NewCloudEventContext builds the context of one CloudEvent. Maps are deep-copied.
func NewCloudEventContext(cluster, cloudEvent map[string]any) CloudEventContext {
	return CloudEventContext{Cluster: deepCopyMap(cluster), CloudEvent: deepCopyMap(cloudEvent)}
}

// CloudEvents always fails: templates of a oneForEvent trigger see one CloudEvent.
func (c CloudEventContext) CloudEvents() ([]map[string]any, error) {
	return nil, fmt.Errorf(".CloudEvents is only available when oneForEvent is false; with oneForEvent: true use .CloudEvent")
}

// Resource always fails: the EventSource selects CloudEvents, not resources.
func (c CloudEventContext) Resource() (map[string]any, error) { return nil, noResources(".Resource") }

// Resources always fails: the EventSource selects CloudEvents, not resources.
func (c CloudEventContext) Resources() ([]map[string]any, error) {
	return nil, noResources(".Resources")
}

// MatchingResource always fails: the EventSource selects CloudEvents, not resources.
func (c CloudEventContext) MatchingResource() (corev1.ObjectReference, error) {
	return corev1.ObjectReference{}, noResources(".MatchingResource")
}

// MatchingResources always fails: the EventSource selects CloudEvents, not resources.
func (c CloudEventContext) MatchingResources() ([]corev1.ObjectReference, error) {
	return nil, noResources(".MatchingResources")
}

// Render renders an instantiate-stage template with c and InstantiateFuncs.
func (c CloudEventContext) Render(name, text string) (string, error) {
	return Render(name, text, c, InstantiateFuncs())
}

// ClusterCloudEventsContext is the data of an instantiate-stage template of
// an EventTrigger with oneForEvent: false whose EventSource selects
// CloudEvents: .Cluster and .CloudEvents, the live CloudEvents of the source
// cluster (one per source and subject, sorted by source, then subject).
type ClusterCloudEventsContext struct {
	// Cluster is the source cluster as a map.
	Cluster map[string]any

	cloudEvents []map[string]any
}

// NewClusterCloudEventsContext builds the context of all live CloudEvents of a
// cluster. Maps are deep-copied.
func NewClusterCloudEventsContext(cluster map[string]any, cloudEvents []map[string]any) ClusterCloudEventsContext {
	out := make([]map[string]any, len(cloudEvents))
	for i, e := range cloudEvents {
		out[i] = deepCopyMap(e)
	}
	return ClusterCloudEventsContext{Cluster: deepCopyMap(cluster), cloudEvents: out}
}

// CloudEvents are the live CloudEvents (template: .CloudEvents).
func (c ClusterCloudEventsContext) CloudEvents() ([]map[string]any, error) { return c.cloudEvents, nil }

// CloudEvent always fails: templates of a trigger with oneForEvent: false see all CloudEvents.
func (c ClusterCloudEventsContext) CloudEvent() (map[string]any, error) {
	return nil, fmt.Errorf(".CloudEvent is only available when oneForEvent is true; with oneForEvent: false use .CloudEvents")
}

// Resource always fails: the EventSource selects CloudEvents, not resources.
func (c ClusterCloudEventsContext) Resource() (map[string]any, error) {
	return nil, noResources(".Resource")
}

// Resources always fails: the EventSource selects CloudEvents, not resources.
func (c ClusterCloudEventsContext) Resources() ([]map[string]any, error) {
	return nil, noResources(".Resources")
}

// MatchingResource always fails: the EventSource selects CloudEvents, not resources.
func (c ClusterCloudEventsContext) MatchingResource() (corev1.ObjectReference, error) {
	return corev1.ObjectReference{}, noResources(".MatchingResource")
}

// MatchingResources always fails: the EventSource selects CloudEvents, not resources.
func (c ClusterCloudEventsContext) MatchingResources() ([]corev1.ObjectReference, error) {
	return nil, noResources(".MatchingResources")
}

// Render renders an instantiate-stage template with c and InstantiateFuncs.
func (c ClusterCloudEventsContext) Render(name, text string) (string, error) {
	return Render(name, text, c, InstantiateFuncs())
}

func noResources(field string) error {
	return fmt.Errorf("%s is not available: the EventSource selects CloudEvents (messagingMatchCriteria), not resources; use .CloudEvent or .CloudEvents", field)
}
