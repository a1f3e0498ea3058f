package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	HealthCheckKind        = "HealthCheck"
	HealthCheckReportKind  = "HealthCheckReport"
	ClusterHealthCheckKind = "ClusterHealthCheck"

	// HealthCheckNameLabel is set on every HealthCheckReport to the HealthCheck it is for.
	HealthCheckNameLabel = "projectsveltos.io/healthcheck-name"
	// HealthCheckReportClusterNameLabel is set on every HealthCheckReport to its cluster's name.
	HealthCheckReportClusterNameLabel = "healthcheckreport.projectsveltos.io/cluster-name"
	// HealthCheckReportClusterTypeLabel is set on every HealthCheckReport to its cluster's type (lower case).
	HealthCheckReportClusterTypeLabel = "healthcheckreport.projectsveltos.io/cluster-type"
)

// FlappingPolicy holds back a non-Healthy status until it has been seen in
// ConsecutiveEvaluations evaluations in a row; a return to Healthy is reported at once.
type FlappingPolicy struct {
	// ConsecutiveEvaluations is how many evaluations in a row must agree.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=2
	// +optional
	ConsecutiveEvaluations int32 `json:"consecutiveEvaluations,omitempty"`
}

// HealthCheckSpec says which resources of a cluster are judged and how.
type HealthCheckSpec struct {
	// ResourceSelectors select the resources to judge.
	// +kubebuilder:validation:MinItems=1
	ResourceSelectors []ResourceSelector `json:"resourceSelectors"`

	// EvaluateHealth is a Lua script defining function evaluate(), which reads the
	// selected resources from the global `resources` and returns
	// {resources = { {resource = r, healthStatus = "Healthy"|"Progressing"|"Degraded"|"Suspended", message = "..."}, ... }}.
	// +kubebuilder:validation:MinLength=1
	EvaluateHealth string `json:"evaluateHealth"`

	// CollectResources copies each judged resource into the HealthCheckReport
	// (Secrets are never copied: their reports carry the reference only).
	// +kubebuilder:default=false
	// +optional
	CollectResources bool `json:"collectResources,omitempty"`

	// EvaluateIndependently, when true, calls evaluate() once per resource (with
	// `resources` holding that one resource); when false, once with all of them,
	// so the script can compare resources. (Serialized even when false, so that
	// false is not replaced by the default.)
	// +kubebuilder:default=true
	// +optional
	EvaluateIndependently bool `json:"evaluateIndependently"`

	// Flapping holds back non-Healthy statuses until they persist.
	// +optional
	Flapping *FlappingPolicy `json:"flapping,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=healthchecks,scope=Cluster
// +kubebuilder:storageversion

// HealthCheck judges the health of resources in managed clusters; a
// ClusterHealthCheck refers to it in a liveness check.
type HealthCheck struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HealthCheckSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// HealthCheckList is a list of HealthChecks.
type HealthCheckList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HealthCheck `json:"items"`
}

// HealthStatus is the health of one resource.
// +kubebuilder:validation:Enum=Healthy;Progressing;Degraded;Suspended
type HealthStatus string

const (
	HealthStatusHealthy     HealthStatus = "Healthy"
	HealthStatusProgressing HealthStatus = "Progressing"
	HealthStatusDegraded    HealthStatus = "Degraded"
	HealthStatusSuspended   HealthStatus = "Suspended"
)

// ResourceStatus is the judged health of one resource.
type ResourceStatus struct {
	// ObjectRef is the resource.
	ObjectRef corev1.ObjectReference `json:"objectRef"`
	// Resource is the resource as YAML, when the HealthCheck collects resources.
	// +optional
	Resource []byte `json:"resource,omitempty"`
	// HealthStatus is its health.
	HealthStatus HealthStatus `json:"healthStatus"`
	// Message explains the status.
	// +optional
	Message string `json:"message,omitempty"`
}

// PendingResourceStatus is a non-Healthy status seen fewer times in a row than
// the HealthCheck's flapping policy requires.
type PendingResourceStatus struct {
	// ObjectRef is the resource.
	ObjectRef corev1.ObjectReference `json:"objectRef"`
	// HealthStatus is the status last seen.
	HealthStatus HealthStatus `json:"healthStatus"`
	// Message explains the status.
	// +optional
	Message string `json:"message,omitempty"`
	// ConsecutiveCount is how many evaluations in a row saw it.
	ConsecutiveCount int32 `json:"consecutiveCount"`
}

// HealthCheckReportSpec is the outcome of one HealthCheck in one cluster.
type HealthCheckReportSpec struct {
	// ClusterNamespace is the cluster's namespace.
	ClusterNamespace string `json:"clusterNamespace"`
	// ClusterName is the cluster's name.
	ClusterName string `json:"clusterName"`
	// ClusterType is the cluster's type.
	ClusterType ClusterType `json:"clusterType"`
	// HealthCheckName is the HealthCheck evaluated.
	HealthCheckName string `json:"healthCheckName"`
	// ResourceStatuses are the reported statuses.
	// +optional
	ResourceStatuses []ResourceStatus `json:"resourceStatuses,omitempty"`
}

// HealthCheckReportStatus is the evaluation's bookkeeping.
type HealthCheckReportStatus struct {
	// Phase of the report; Tugboat evaluates in the manager, so its reports are Processed.
	// +optional
	Phase *ReportPhase `json:"phase,omitempty"`
	// AgentFailureMessage is the last evaluation's error; spec keeps the last
	// good outcome meanwhile. Cleared on success.
	// +optional
	AgentFailureMessage *string `json:"agentFailureMessage,omitempty"`
	// PendingResourceStatuses are non-Healthy statuses not yet reported (flapping policy).
	// +optional
	PendingResourceStatuses []PendingResourceStatus `json:"pendingResourceStatuses,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=healthcheckreports,scope=Namespaced
// +kubebuilder:subresource:status
// +kubebuilder:storageversion

// HealthCheckReport records, in the cluster's namespace, the outcome of a
// HealthCheck in a cluster. Named <clustertype>--<healthcheck>--<cluster>.
type HealthCheckReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   HealthCheckReportSpec   `json:"spec,omitempty"`
	Status HealthCheckReportStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HealthCheckReportList is a list of HealthCheckReports.
type HealthCheckReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HealthCheckReport `json:"items"`
}

// LivenessType is what a liveness check watches.
// +kubebuilder:validation:Enum=Addons;HealthCheck
type LivenessType string

const (
	// LivenessTypeAddons watches the deployment state of the cluster's profiles.
	LivenessTypeAddons LivenessType = "Addons"
	// LivenessTypeHealthCheck watches the outcome of a HealthCheck.
	LivenessTypeHealthCheck LivenessType = "HealthCheck"
)

// LivenessCheck is one thing a ClusterHealthCheck watches in each cluster.
// +kubebuilder:validation:XValidation:rule="self.type != 'HealthCheck' || (has(self.livenessSourceRef) && self.livenessSourceRef.kind == 'HealthCheck' && has(self.livenessSourceRef.name))",message="a HealthCheck liveness check needs livenessSourceRef naming a HealthCheck (kind: HealthCheck, name)"
type LivenessCheck struct {
	// Name identifies the check; unique within the ClusterHealthCheck.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Type is Addons or HealthCheck.
	Type LivenessType `json:"type"`
	// LivenessSourceRef is the HealthCheck, for type HealthCheck.
	// +optional
	LivenessSourceRef *corev1.ObjectReference `json:"livenessSourceRef,omitempty"`
}

// NotificationType is where a notification goes.
// +kubebuilder:validation:Enum=KubernetesEvent;Slack;Webex;Discord;Teams;Telegram;SMTP
type NotificationType string

const (
	NotificationTypeKubernetesEvent NotificationType = "KubernetesEvent"
	NotificationTypeSlack           NotificationType = "Slack"
	NotificationTypeWebex           NotificationType = "Webex"
	NotificationTypeDiscord         NotificationType = "Discord"
	NotificationTypeTeams           NotificationType = "Teams"
	NotificationTypeTelegram        NotificationType = "Telegram"
	NotificationTypeSMTP            NotificationType = "SMTP"
)

// Notification is one place state changes are sent to.
// +kubebuilder:validation:XValidation:rule="self.type == 'KubernetesEvent' || (has(self.notificationRef) && self.notificationRef.kind == 'Secret' && has(self.notificationRef.name) && has(self.notificationRef.namespace))",message="every notification but KubernetesEvent needs notificationRef naming a Secret (kind: Secret, namespace, name) with its settings"
type Notification struct {
	// Name identifies the notification; unique within its owner.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Type is where it goes.
	Type NotificationType `json:"type"`
	// NotificationRef is the Secret holding the settings of the service
	// (see docs for the keys of each type).
	// +optional
	NotificationRef *corev1.ObjectReference `json:"notificationRef,omitempty"`
}

// NotificationStatus is whether the last notification went out.
// +kubebuilder:validation:Enum=Delivered;FailedToDeliver
type NotificationStatus string

const (
	NotificationStatusDelivered       NotificationStatus = "Delivered"
	NotificationStatusFailedToDeliver NotificationStatus = "FailedToDeliver"
)

// NotificationSummary is the state of one notification for one cluster.
type NotificationSummary struct {
	// Name of the notification.
	Name string `json:"name"`
	// Status of its last delivery.
	Status NotificationStatus `json:"status"`
	// FailureMessage says why delivery failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
}

// ConditionSeverity says how bad a False condition is.
type ConditionSeverity string

const (
	ConditionSeverityError   ConditionSeverity = "Error"
	ConditionSeverityWarning ConditionSeverity = "Warning"
	ConditionSeverityInfo    ConditionSeverity = "Info"
	ConditionSeverityNone    ConditionSeverity = ""
)

// Condition is the state of one liveness check in one cluster.
type Condition struct {
	// Name is the liveness check's name.
	Name string `json:"name"`
	// Type is the condition's type.
	Type string `json:"type"`
	// Status is True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// Severity classifies a False status.
	// +optional
	Severity ConditionSeverity `json:"severity,omitempty"`
	// LastTransitionTime is when Status last changed.
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	// Reason is a CamelCase reason.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message explains the status.
	// +optional
	Message string `json:"message,omitempty"`
}

// ClusterCondition is the state of every liveness check and notification for one cluster.
type ClusterCondition struct {
	// ClusterInfo identifies the cluster and holds the hash of the last state notified.
	ClusterInfo ClusterInfo `json:"clusterInfo"`
	// Conditions are the liveness checks' states.
	// +optional
	Conditions []Condition `json:"conditions,omitempty"`
	// NotificationSummaries are the notifications' states.
	// +optional
	NotificationSummaries []NotificationSummary `json:"notificationSummaries,omitempty"`
}

// ClusterHealthCheckSpec says which clusters are watched, for what, and who is told.
type ClusterHealthCheckSpec struct {
	// ClusterSelector selects the clusters.
	// +optional
	ClusterSelector Selector `json:"clusterSelector,omitempty"`
	// LivenessChecks are what is watched; a change of any sends notifications.
	// +kubebuilder:validation:MinItems=1
	// +listType=map
	// +listMapKey=name
	LivenessChecks []LivenessCheck `json:"livenessChecks"`
	// Notifications are where changes are sent.
	// +listType=map
	// +listMapKey=name
	Notifications []Notification `json:"notifications"`
}

// ClusterHealthCheckStatus is what the controller last observed.
type ClusterHealthCheckStatus struct {
	// MatchingClusterRefs are the clusters currently selected.
	// +optional
	MatchingClusterRefs []corev1.ObjectReference `json:"matchingClusters,omitempty"`
	// ClusterConditions are the per-cluster states.
	// +optional
	ClusterConditions []ClusterCondition `json:"clusterCondition,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=clusterhealthchecks,scope=Cluster
// +kubebuilder:subresource:status
// +kubebuilder:storageversion

// ClusterHealthCheck watches the health of the selected clusters and notifies
// people once per change.
type ClusterHealthCheck struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterHealthCheckSpec   `json:"spec,omitempty"`
	Status ClusterHealthCheckStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterHealthCheckList is a list of ClusterHealthChecks.
type ClusterHealthCheckList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterHealthCheck `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HealthCheck{}, &HealthCheckList{},
		&HealthCheckReport{}, &HealthCheckReportList{},
		&ClusterHealthCheck{}, &ClusterHealthCheckList{})
}
