package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// GeneratorReference asks an EventTrigger to render a ConfigMap or Secret with the
// event's context and store the result under a new, templated name.
type GeneratorReference struct {
	// Namespace of the source object; empty means the source cluster's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the source object.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// NameFormat is a template for the name of the generated object.
	// +kubebuilder:validation:MinLength=1
	NameFormat string `json:"nameFormat"`

	// Optional, when true, skips this generator while the source object does not
	// exist (nothing is generated from it and the trigger stays Ready); when
	// false, a missing source object fails the trigger in that cluster with a
	// message naming it, and what it generated before is kept.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// EventTriggerSpec says what to deploy, and where, when an EventSource matches
// resources in a source cluster. Its deployment fields are copied (after
// instantiation with the event's context) into the ClusterProfiles it generates.
//
// +kubebuilder:validation:XValidation:rule="(has(self.oneForEvent) && self.oneForEvent) == (has(oldSelf.oneForEvent) && oldSelf.oneForEvent)",message="oneForEvent is immutable"
// +kubebuilder:validation:XValidation:rule="!has(self.cloudEventAction) || self.cloudEventAction in ['Create', 'Delete'] || self.cloudEventAction.contains('{{')",message="cloudEventAction must be Create, Delete or a template (over .CloudEvent and .Cluster) rendering one of them"
type EventTriggerSpec struct {
	// SourceClusterSelector selects the clusters in which the EventSource is evaluated.
	SourceClusterSelector Selector `json:"sourceClusterSelector"`

	// ClusterSetRefs names ClusterSets whose selected clusters
	// (status.selectedClusterRefs) are source clusters too, in addition to those
	// matching sourceClusterSelector. A ClusterSet that does not exist adds no
	// cluster.
	// +optional
	ClusterSetRefs []string `json:"clusterSetRefs,omitempty"`

	// EventSourceName is the EventSource to evaluate. It is a template over .Cluster.
	// +kubebuilder:validation:MinLength=1
	EventSourceName string `json:"eventSourceName"`

	// DestinationClusterSelector, when set, is the clusterSelector of the generated
	// ClusterProfiles. With neither it nor DestinationCluster, a generated profile
	// targets the cluster where the event happened.
	// +optional
	DestinationClusterSelector Selector `json:"destinationClusterSelector,omitempty"`

	// DestinationCluster, when set, is the single cluster the generated profiles
	// target. Its fields are templates.
	// +optional
	DestinationCluster *corev1.ObjectReference `json:"destinationCluster,omitempty"`

	// OneForEvent generates one ClusterProfile per matching resource when true, and
	// one per source cluster covering all matching resources when false. Immutable.
	// +optional
	OneForEvent bool `json:"oneForEvent,omitempty"`

	// CloudEventAction says what a CloudEvent matched by the EventSource's
	// messagingMatchCriteria does: Create (the default) adds, or replaces, the
	// entry of its (source, subject) pair for the source cluster; Delete removes
	// it, and with it what the entry generated. It may be a template over
	// .CloudEvent and .Cluster rendering Create or Delete. Ignored for
	// EventSources with resourceSelectors.
	// +optional
	CloudEventAction string `json:"cloudEventAction,omitempty"`

	// ProfileNameFormat is a template for the names of the generated ClusterProfiles;
	// without it names are generated.
	// +optional
	ProfileNameFormat string `json:"profileNameFormat,omitempty"`

	// SyncMode of the generated ClusterProfiles.
	// +kubebuilder:default=Continuous
	// +optional
	SyncMode SyncMode `json:"syncMode,omitempty"`

	// Tier of the generated ClusterProfiles. Lower wins a conflict.
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=1
	// +optional
	Tier int32 `json:"tier,omitempty"`

	// StopMatchingBehavior of the generated ClusterProfiles.
	// +kubebuilder:default=WithdrawPolicies
	// +optional
	StopMatchingBehavior StopMatchingBehavior `json:"stopMatchingBehavior,omitempty"`

	// MaxUpdate of the generated ClusterProfiles: how many of their clusters (a
	// number or a percentage) are updated at once when their spec changes.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern="^((100|[0-9]{1,2})%|[0-9]+)$"
	// +optional
	MaxUpdate *intstr.IntOrString `json:"maxUpdate,omitempty"`

	// MaxConsecutiveFailures of the generated ClusterProfiles: after this many
	// failures in a row of a feature in a cluster, it is not retried until
	// something changes.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxConsecutiveFailures *int32 `json:"maxConsecutiveFailures,omitempty"`

	// Reloader of the generated ClusterProfiles: workloads mounting the
	// ConfigMaps/Secrets they deploy are rolled when their content changes (see
	// ClusterProfile spec.reloader).
	// +optional
	Reloader bool `json:"reloader,omitempty"`

	// ContinueOnConflict of the generated ClusterProfiles.
	// +optional
	ContinueOnConflict bool `json:"continueOnConflict,omitempty"`

	// ContinueOnError of the generated ClusterProfiles.
	// +optional
	ContinueOnError bool `json:"continueOnError,omitempty"`

	// DependsOn of the generated ClusterProfiles.
	// +optional
	DependsOn []string `json:"dependsOn,omitempty"`

	// TemplateResourceRefs of the generated ClusterProfiles.
	// +optional
	TemplateResourceRefs []TemplateResourceRef `json:"templateResourceRefs,omitempty"`

	// PolicyRefs of the generated ClusterProfiles. Referenced ConfigMaps/Secrets
	// annotated projectsveltos.io/instantiate are rendered into new ones first
	// (their data values are Go templates, or Lua programs when they also carry
	// projectsveltos.io/lua).
	// +optional
	PolicyRefs []PolicyRef `json:"policyRefs,omitempty"`

	// HelmCharts of the generated ClusterProfiles.
	// +optional
	HelmCharts []HelmChart `json:"helmCharts,omitempty"`

	// KustomizationRefs of the generated ClusterProfiles.
	// +optional
	KustomizationRefs []KustomizationRef `json:"kustomizationRefs,omitempty"`

	// ValidateHealths of the generated ClusterProfiles.
	// +optional
	ValidateHealths []ValidateHealth `json:"validateHealths,omitempty"`

	// Patches of the generated ClusterProfiles.
	// +optional
	Patches []Patch `json:"patches,omitempty"`

	// PatchesFrom of the generated ClusterProfiles: ConfigMaps/Secrets whose data
	// values are more patches (see ClusterProfile spec.patchesFrom). Their name
	// and namespace are rendered with the event first; one annotated
	// projectsveltos.io/instantiate is instantiated with the event (Go templates,
	// or Lua with projectsveltos.io/lua) into a new object the profile names
	// instead, like policyRefs.
	// +optional
	PatchesFrom []ValueFrom `json:"patchesFrom,omitempty"`

	// PreDeployChecks of the generated ClusterProfiles: checks that must pass in
	// a cluster before a feature is first deployed there (see ClusterProfile
	// spec.preDeployChecks).
	// +optional
	PreDeployChecks []ValidateHealth `json:"preDeployChecks,omitempty"`

	// PreDeleteChecks of the generated ClusterProfiles: checks that must pass
	// before what a profile deployed is withdrawn (see ClusterProfile
	// spec.preDeleteChecks).
	// +optional
	PreDeleteChecks []ValidateHealth `json:"preDeleteChecks,omitempty"`

	// PostDeleteChecks of the generated ClusterProfiles: checks that must pass
	// after withdrawal before the ClusterSummary goes (see ClusterProfile
	// spec.postDeleteChecks).
	// +optional
	PostDeleteChecks []ValidateHealth `json:"postDeleteChecks,omitempty"`

	// DriftExclusions of the generated ClusterProfiles.
	// +optional
	DriftExclusions []DriftExclusion `json:"driftExclusions,omitempty"`

	// ExtraLabels of the generated ClusterProfiles.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty"`

	// ExtraAnnotations of the generated ClusterProfiles.
	// +optional
	ExtraAnnotations map[string]string `json:"extraAnnotations,omitempty"`

	// ConfigMapGenerator renders ConfigMaps with the event's context into new
	// ones (Go templates, or Lua when the source carries the annotation
	// projectsveltos.io/lua), in Tugboat's namespace under their nameFormat.
	// +optional
	ConfigMapGenerator []GeneratorReference `json:"configMapGenerator,omitempty"`

	// SecretGenerator renders Secrets with the event's context into new ones
	// (Go templates, or Lua when the source carries the annotation
	// projectsveltos.io/lua), in Tugboat's namespace under their nameFormat.
	// +optional
	SecretGenerator []GeneratorReference `json:"secretGenerator,omitempty"`
}

// EventTriggerStatus is what the EventTrigger controller last observed.
type EventTriggerStatus struct {
	// MatchingClusterRefs are the source clusters (matching sourceClusterSelector).
	// +optional
	MatchingClusterRefs []corev1.ObjectReference `json:"matchingClusters,omitempty"`

	// DestinationMatchingClusterRefs are the clusters matching destinationClusterSelector.
	// +optional
	DestinationMatchingClusterRefs []corev1.ObjectReference `json:"destinationMatchingClusterRefs,omitempty"`

	// ClusterInfo is the processing state for each source cluster.
	// +optional
	ClusterInfo []ClusterInfo `json:"clusterInfo,omitempty"`

	// Conditions summarise the trigger's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// EventTrigger turns events (see EventSource) into ClusterProfiles: for each event in a
// source cluster it renders its templates with the event's context and creates or
// updates the corresponding ClusterProfile, removing it when the event is gone.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=eventtriggers,scope=Cluster,categories=tugboat
// +kubebuilder:printcolumn:name="EventSource",type="string",JSONPath=".spec.eventSourceName",description="EventSource evaluated"
// +kubebuilder:printcolumn:name="OneForEvent",type="boolean",JSONPath=".spec.oneForEvent",description="One ClusterProfile per matching resource"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="SyncMode",type="string",JSONPath=".spec.syncMode",priority=1
type EventTrigger struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EventTriggerSpec   `json:"spec,omitempty"`
	Status EventTriggerStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// EventTriggerList is a list of EventTriggers.
type EventTriggerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EventTrigger `json:"items"`
}

func init() {
	SchemeBuilder.Register(&EventTrigger{}, &EventTriggerList{})
}

// GetConditions returns the status conditions (internal/conditions.Holder).
func (t *EventTrigger) GetConditions() *[]metav1.Condition { return &t.Status.Conditions }
