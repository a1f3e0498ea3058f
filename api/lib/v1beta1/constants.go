package v1beta1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Kinds of this group.
const (
	EventSourceKind  = "EventSource"
	EventTriggerKind = "EventTrigger"
	EventReportKind  = "EventReport"
	ClusterSetKind   = "ClusterSet"
	SetKind          = "Set"
)

// ClusterType tells which API describes a managed cluster.
// +kubebuilder:validation:Enum=Capi;Sveltos
type ClusterType string

const (
	// ClusterTypeCapi is a cluster described by a Cluster API Cluster.
	ClusterTypeCapi ClusterType = "Capi"
	// ClusterTypeSveltos is a cluster described by a SveltosCluster.
	ClusterTypeSveltos ClusterType = "Sveltos"
)

// DefaultSystemNamespace is the namespace Tugboat keeps its own objects in (for
// example the ConfigMaps and Secrets that EventTriggers instantiate) unless
// configured otherwise.
const DefaultSystemNamespace = "projectsveltos"

// ClusterProfileSecretType is the type a Secret must have to be deployed through
// policyRefs, and the type given to Secrets that EventTriggers instantiate.
const ClusterProfileSecretType = "addons.projectsveltos.io/cluster-profile"

// Metadata on ConfigMaps and Secrets referenced by profiles and EventTriggers.
const (
	// TemplateAnnotation (any value) marks a referenced ConfigMap/Secret whose data
	// values are Go templates, rendered per cluster before deployment.
	TemplateAnnotation = "projectsveltos.io/template"

	// LuaAnnotation (any value) marks a referenced ConfigMap/Secret whose data values
	// are Lua programs producing the objects to deploy. An EventTrigger runs them
	// when it instantiates the object (with projectsveltos.io/instantiate, or as a
	// generator's source; docs/events.md); a profile referencing one directly fails
	// with a message saying so.
	LuaAnnotation = "projectsveltos.io/lua"

	// InstantiateAnnotation (any value) marks a ConfigMap/Secret referenced by an
	// EventTrigger whose data values are rendered with the event's context into a new
	// ConfigMap/Secret.
	InstantiateAnnotation = "projectsveltos.io/instantiate"
)

// Metadata Tugboat puts on every object it deploys into a cluster.
const (
	// ReasonLabel holds the FeatureID (Resources, Helm, Kustomize) that deployed the object.
	ReasonLabel = "projectsveltos.io/reason"

	// ReferenceKindAnnotation, ReferenceNameAnnotation, ReferenceNamespaceAnnotation and
	// ReferenceTierAnnotation name the ConfigMap/Secret (or other source) the object came
	// from, and the tier of that reference.
	ReferenceKindAnnotation      = "projectsveltos.io/reference-kind"
	ReferenceNameAnnotation      = "projectsveltos.io/reference-name"
	ReferenceNamespaceAnnotation = "projectsveltos.io/reference-namespace"
	ReferenceTierAnnotation      = "projectsveltos.io/reference-tier"

	// OwnerKindAnnotation, OwnerNameAnnotation and OwnerTierAnnotation name the profile
	// (ClusterProfile or Profile) that owns the object and that profile's tier.
	OwnerKindAnnotation = "projectsveltos.io/owner-kind"
	OwnerNameAnnotation = "projectsveltos.io/owner-name"
	OwnerTierAnnotation = "projectsveltos.io/owner-tier"

	// HashAnnotation is the hash of the desired state the object was last applied from.
	HashAnnotation = "projectsveltos.io/hash"
)

// Labels on the ClusterProfiles, ConfigMaps and Secrets an EventTrigger generates.
// Together they identify the origin of a generated object, so that the same origin
// always maps to the same object.
const (
	eventTriggerLabelPrefix = "eventtrigger.lib.projectsveltos.io/"

	// EventTriggerNameLabel is the name of the EventTrigger.
	EventTriggerNameLabel = eventTriggerLabelPrefix + "eventtriggername"
	// EventTriggerClusterNamespaceLabel is the namespace of the source cluster.
	EventTriggerClusterNamespaceLabel = eventTriggerLabelPrefix + "clusterNamespace"
	// EventTriggerClusterNameLabel is the name of the source cluster.
	EventTriggerClusterNameLabel = eventTriggerLabelPrefix + "clustername"
	// EventTriggerClusterTypeLabel is the ClusterType of the source cluster.
	EventTriggerClusterTypeLabel = eventTriggerLabelPrefix + "clustertype"
	// EventTriggerEventSourceNameLabel is the name of the EventSource evaluated.
	EventTriggerEventSourceNameLabel = eventTriggerLabelPrefix + "eventsourcename"
	// EventTriggerResourceNameLabel is the name of the matching resource (oneForEvent only).
	EventTriggerResourceNameLabel = eventTriggerLabelPrefix + "resourcename"
	// EventTriggerResourceNamespaceLabel is the namespace of the matching resource (oneForEvent only).
	EventTriggerResourceNamespaceLabel = eventTriggerLabelPrefix + "resourcenamespace"
	// EventTriggerRefNameLabel is the name of the ConfigMap/Secret an instantiated copy was made from.
	EventTriggerRefNameLabel = eventTriggerLabelPrefix + "refname"
	// EventTriggerRefNamespaceLabel is the namespace of the ConfigMap/Secret an instantiated copy was made from.
	EventTriggerRefNamespaceLabel = eventTriggerLabelPrefix + "refnamespace"
	// EventTriggerCloudEventSourceLabel and EventTriggerCloudEventSubjectLabel
	// are the source and subject of the CloudEvent a generated object stands for
	// (oneForEvent triggers of EventSources with messagingMatchCriteria; values
	// that are not valid label values are replaced by a hash).
	EventTriggerCloudEventSourceLabel  = eventTriggerLabelPrefix + "cloudeventsource"
	EventTriggerCloudEventSubjectLabel = eventTriggerLabelPrefix + "cloudeventsubject"
	// EventTriggerCloudEventsLabel marks the ConfigMap in which Tugboat records,
	// for one EventTrigger and one source cluster, the CloudEvents whose entries
	// are live; its value is the EventTrigger's name.
	EventTriggerCloudEventsLabel = eventTriggerLabelPrefix + "cloudevents"
)

// The Secret, in each source cluster, that says how to reach its NATS server
// (the shape Sveltos documents: {"nats": {"configuration": {...}},
// "jetstream": {"configuration": {...}}}).
const (
	NATSSecretNamespace = DefaultSystemNamespace
	NATSSecretName      = "sveltos-nats"
	NATSSecretKey       = "sveltos-nats"
)

// EventReportName is the name of the EventReport for one EventSource and one source
// cluster: sveltos--<eventSourceName>--<clusterName>. It lives in the cluster namespace.
func EventReportName(eventSourceName, clusterName string) string {
	return BoundedName(strings.Join([]string{"sveltos", eventSourceName, clusterName}, "--"))
}

// MaxNameLength is the longest object name the API server accepts (a DNS subdomain).
const MaxNameLength = 253

// BoundedName returns name unchanged when it is a valid length for an object name;
// otherwise it cuts it and appends a short hash of the whole name, so that distinct
// long names stay distinct and the result is always the same for the same input.
func BoundedName(name string) string {
	if len(name) <= MaxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:])[:12]
	head := strings.TrimRight(name[:MaxNameLength-len(suffix)], "-.")
	return head + suffix
}

// EventObservedAnnotation is set by Tugboat on the ClusterProfiles and
// ConfigMaps/Secrets an EventTrigger writes: when the event that changed them
// was acted on (RFC 3339). The profile engine measures event-to-deploy latency
// from it (a Tugboat addition). On an EventReport it is the time of the last
// event: stamped in the write that records a change of the matches.
const EventObservedAnnotation = "tugboat.dev/event-observed-at"
