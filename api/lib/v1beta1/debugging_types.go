package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	DebuggingConfigurationKind = "DebuggingConfiguration"
	TechsupportKind            = "Techsupport"
)

// LogLevel is how much a component logs.
// +kubebuilder:validation:Enum=LogLevelNotSet;LogLevelInfo;LogLevelDebug;LogLevelVerbose
type LogLevel string

const (
	// LogLevelNotSet leaves the component at the manager's --v level.
	LogLevelNotSet LogLevel = "LogLevelNotSet"
	// LogLevelInfo logs at V(0).
	LogLevelInfo LogLevel = "LogLevelInfo"
	// LogLevelDebug logs up to V(5).
	LogLevelDebug LogLevel = "LogLevelDebug"
	// LogLevelVerbose logs up to V(10).
	LogLevelVerbose LogLevel = "LogLevelVerbose"
)

// Component is a Sveltos component name. Tugboat runs every controller in one
// manager; each name maps to the Tugboat controllers that do that component's work.
// +kubebuilder:validation:Enum=AddonManager;Classifier;ClassifierAgent;SveltosClusterManager;DriftDetectionManager;AccessManager;HealthCheckManager;EventManager;ShardController;UIBackend
type Component string

const (
	ComponentAddonManager          Component = "AddonManager"
	ComponentClassifier            Component = "Classifier"
	ComponentClassifierAgent       Component = "ClassifierAgent"
	ComponentSveltosClusterManager Component = "SveltosClusterManager"
	ComponentDriftDetectionManager Component = "DriftDetectionManager"
	ComponentAccessManager         Component = "AccessManager"
	ComponentHealthCheckManager    Component = "HealthCheckManager"
	ComponentEventManager          Component = "EventManager"
	ComponentShardController       Component = "ShardController"
	ComponentUIBackend             Component = "UIBackend"
)

// ComponentConfiguration is the log level of one component.
type ComponentConfiguration struct {
	// Component the level applies to.
	Component Component `json:"component"`
	// LogLevel of the component. Unset means LogLevelNotSet.
	// +optional
	LogLevel LogLevel `json:"logLevel,omitempty"`
}

// DebuggingConfigurationSpec sets log levels per component.
type DebuggingConfigurationSpec struct {
	// Configuration holds one entry per component.
	// +listType=atomic
	// +optional
	Configuration []ComponentConfiguration `json:"configuration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=debuggingconfigurations,scope=Cluster
// +kubebuilder:storageversion

// DebuggingConfiguration changes the manager's log levels at run time, per
// component. The one named "default" is the one read, as in Sveltos.
type DebuggingConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec DebuggingConfigurationSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// DebuggingConfigurationList is a list of DebuggingConfigurations.
type DebuggingConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DebuggingConfiguration `json:"items"`
}

// Log selects pods whose logs are collected.
type Log struct {
	// Namespace of the pods; empty means all namespaces.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the pod.
	// +optional
	Name string `json:"name,omitempty"`
	// LabelFilters select pods by label.
	// +optional
	LabelFilters []LabelFilter `json:"labelFilters,omitempty"`
	// SinceSeconds collects only the logs of the last that many seconds.
	// +kubebuilder:validation:Minimum=1
	// +optional
	SinceSeconds *int64 `json:"sinceSeconds,omitempty"`
}

// Event selects Kubernetes Events to collect.
type Event struct {
	// Namespace of the events; empty means all namespaces.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Type keeps only Normal or only Warning events.
	// +kubebuilder:validation:Enum=Normal;Warning
	// +optional
	Type string `json:"type,omitempty"`
}

// FromManagement is what is collected from the management cluster.
type FromManagement struct {
	// Resources to collect (Secrets are collected without their data).
	// +optional
	Resources []ResourceSelector `json:"resources,omitempty"`
	// Logs to collect.
	// +optional
	Logs []Log `json:"logs,omitempty"`
	// Events to collect.
	// +optional
	Events []Event `json:"events,omitempty"`
}

// FromManaged is what is collected from the selected managed clusters.
type FromManaged struct {
	// ClusterSelector selects clusters.
	// +optional
	ClusterSelector Selector `json:"clusterSelector,omitempty"`
	// ClusterRefs name clusters.
	// +optional
	ClusterRefs []corev1.ObjectReference `json:"clusterRefs,omitempty"`
	// Resources to collect (Secrets are collected without their data).
	// +optional
	Resources []ResourceSelector `json:"resources,omitempty"`
	// Logs to collect.
	// +optional
	Logs []Log `json:"logs,omitempty"`
	// Events to collect.
	// +optional
	Events []Event `json:"events,omitempty"`
}

// SchedulingConfig runs a collection on a schedule.
type SchedulingConfig struct {
	// Schedule in cron format (five fields, or a descriptor such as @daily), in
	// UTC unless prefixed with CRON_TZ=<zone>.
	// +kubebuilder:validation:MinLength=1
	Schedule string `json:"schedule"`
	// StartingDeadlineSeconds: a run that could not start within this many
	// seconds of its time (the manager was down) is skipped and counted as
	// failed; without it, a late run is collected when the manager can.
	// +kubebuilder:validation:Minimum=0
	// +optional
	StartingDeadlineSeconds *int64 `json:"startingDeadlineSeconds,omitempty"`
}

// CollectionStatus is how the last collection went.
// +kubebuilder:validation:Enum=Collected;InProgress;Failed
type CollectionStatus string

const (
	CollectionStatusInProgress CollectionStatus = "InProgress"
	CollectionStatusCollected  CollectionStatus = "Collected"
	CollectionStatusFailed     CollectionStatus = "Failed"
)

// TechsupportSpec says what is collected, when, and who is told.
type TechsupportSpec struct {
	// FromManagement is what is collected from the management cluster.
	// +optional
	FromManagement FromManagement `json:"fromManagement,omitempty"`
	// FromManaged is what is collected from managed clusters.
	// +optional
	FromManaged FromManaged `json:"fromManaged,omitempty"`
	// OnDemand collects once now (and again whenever the spec changes).
	// +optional
	OnDemand bool `json:"onDemand,omitempty"`
	// SchedulingConfig collects on a schedule.
	// +optional
	SchedulingConfig *SchedulingConfig `json:"schedulingConfig,omitempty"`
	// Notifications are told where each archive is and its size (SMTP gets
	// archives up to 10 MiB attached).
	// +listType=map
	// +listMapKey=name
	Notifications []Notification `json:"notifications"`
}

// TechsupportStatus is the state of collections.
type TechsupportStatus struct {
	// NextScheduleTime is when the next scheduled collection runs.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`
	// LastRunTime is when the last collection started.
	// +optional
	LastRunTime *metav1.Time `json:"lastRunTime,omitempty"`
	// LastRunStatus is how it went.
	// +optional
	LastRunStatus *CollectionStatus `json:"lastRunStatus,omitempty"`
	// FailureMessage says why it failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
	// Hash of the spec last collected for (on-demand runs repeat when it changes).
	// +optional
	Hash []byte `json:"hash,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=techsupports,scope=Cluster
// +kubebuilder:subresource:status
// +kubebuilder:storageversion

// Techsupport collects objects, events and logs from the management and managed
// clusters into an archive, with Secret data redacted.
type Techsupport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TechsupportSpec   `json:"spec,omitempty"`
	Status TechsupportStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TechsupportList is a list of Techsupports.
type TechsupportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Techsupport `json:"items"`
}

func init() {
	SchemeBuilder.Register(&DebuggingConfiguration{}, &DebuggingConfigurationList{},
		&Techsupport{}, &TechsupportList{})
}
