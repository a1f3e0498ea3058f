package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// annotated projectsveltos.io/instantiate are rendered into new ones first.
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

	// DriftExclusions of the generated ClusterProfiles.
	// +optional
	DriftExclusions []DriftExclusion `json:"driftExclusions,omitempty"`

	// ExtraLabels of the generated ClusterProfiles.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty"`

	// ExtraAnnotations of the generated ClusterProfiles.
	// +optional
	ExtraAnnotations map[string]string `json:"extraAnnotations,omitempty"`

	// ConfigMapGenerator renders ConfigMaps with the event's context into new ones.
	// +optional
	ConfigMapGenerator []GeneratorReference `json:"configMapGenerator,omitempty"`

	// SecretGenerator renders Secrets with the event's context into new ones.
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
