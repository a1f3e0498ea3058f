package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// SveltosClusterKind is the kind of a registered cluster.
	SveltosClusterKind = "SveltosCluster"

	// K8sVersionLabel is set by the cluster controller to the cluster's Kubernetes
	// version (vMAJOR.MINOR.PATCH, without build metadata).
	K8sVersionLabel = "projectsveltos.io/k8s-version"

	// ShardAnnotation assigns a cluster to the manager started with the same shard key.
	ShardAnnotation = "sharding.projectsveltos.io/key"

	// KubeconfigSecretSuffix is appended to a cluster's name to form the default
	// name of its kubeconfig Secret.
	KubeconfigSecretSuffix = "-sveltos-kubeconfig"

	// KubeconfigSecretKey is the default key of the kubeconfig in that Secret.
	KubeconfigSecretKey = "kubeconfig"
)

// ConnectionStatus says whether the management cluster can reach a cluster.
// +kubebuilder:validation:Enum=Healthy;Down
type ConnectionStatus string

const (
	ConnectionHealthy ConnectionStatus = "Healthy"
	ConnectionDown    ConnectionStatus = "Down"
)

// TokenRequestRenewalOption configures renewal of the token in the kubeconfig
// (rejected: see SveltosClusterSpec).
type TokenRequestRenewalOption struct {
	// RenewTokenRequestInterval is how often the token is renewed.
	RenewTokenRequestInterval metav1.Duration `json:"renewTokenRequestInterval"`

	// TokenDuration is the lifetime of a requested token.
	// +optional
	TokenDuration metav1.Duration `json:"tokenDuration,omitempty"`

	// SANamespace and SAName name the ServiceAccount whose token is requested.
	// +optional
	SANamespace string `json:"saNamespace,omitempty"`
	// +optional
	SAName string `json:"saName,omitempty"`
}

// ActiveWindow restricts when changes are pushed to a cluster (rejected: see
// SveltosClusterSpec).
type ActiveWindow struct {
	// From is a cron expression for the start of the window.
	From string `json:"from"`
	// To is a cron expression for the end of the window.
	To string `json:"to"`
}

// ClusterCheck is a readiness or liveness check over resources of the cluster
// (rejected: see SveltosClusterSpec).
type ClusterCheck struct {
	// Name identifies the check.
	Name string `json:"name"`
	// ResourceSelectors select the resources the check is evaluated on.
	ResourceSelectors []ResourceSelector `json:"resourceSelectors"`
	// Condition is a Lua script evaluated over the selected resources.
	Condition string `json:"condition"`
}

// SveltosClusterSpec defines how to reach a managed cluster.
type SveltosClusterSpec struct {
	// KubeconfigName is the Secret, in the cluster's namespace, holding the kubeconfig.
	// Defaults to <cluster name>-sveltos-kubeconfig.
	// +optional
	KubeconfigName string `json:"kubeconfigName,omitempty"`

	// KubeconfigKeyName is the key of the kubeconfig in that Secret. Defaults to
	// "kubeconfig", else the Secret's only key.
	// +optional
	KubeconfigKeyName string `json:"kubeconfigKeyName,omitempty"`

	// Paused stops all changes from being pushed to this cluster.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// Data is free-form data, available to templates as .Cluster.spec.data.
	// +optional
	Data map[string]string `json:"data,omitempty"`

	// ConsecutiveFailureThreshold is how many probes in a row must fail before
	// the cluster is reported Down.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +optional
	ConsecutiveFailureThreshold int `json:"consecutiveFailureThreshold,omitempty"`

	// TokenRequestRenewalOption would renew the token in the kubeconfig. Not
	// supported by this version of Tugboat: a SveltosCluster setting it is rejected.
	// +kubebuilder:validation:XValidation:rule="false",message="tokenRequestRenewalOption is not supported by this version of Tugboat: renew the kubeconfig Secret yourself"
	// +optional
	TokenRequestRenewalOption *TokenRequestRenewalOption `json:"tokenRequestRenewalOption,omitempty"`

	// ActiveWindow would restrict when changes are pushed. Not supported by this
	// version of Tugboat: a SveltosCluster setting it is rejected (spec.paused
	// stops changes).
	// +kubebuilder:validation:XValidation:rule="false",message="activeWindow is not supported by this version of Tugboat: use spec.paused"
	// +optional
	ActiveWindow *ActiveWindow `json:"activeWindow,omitempty"`

	// ReadinessChecks would have to pass before the cluster is ready. Not supported
	// by this version of Tugboat: a SveltosCluster setting it is rejected.
	// +kubebuilder:validation:XValidation:rule="size(self) == 0",message="readinessChecks is not supported by this version of Tugboat"
	// +optional
	ReadinessChecks []ClusterCheck `json:"readinessChecks,omitempty"`

	// LivenessChecks would have to keep passing for the cluster to stay healthy.
	// Not supported by this version of Tugboat: a SveltosCluster setting it is rejected.
	// +kubebuilder:validation:XValidation:rule="size(self) == 0",message="livenessChecks is not supported by this version of Tugboat"
	// +optional
	LivenessChecks []ClusterCheck `json:"livenessChecks,omitempty"`

	// PullMode would have the cluster pull its configuration through an agent.
	// Not supported by this version of Tugboat (it deploys agentless): pullMode:
	// true is rejected.
	// +kubebuilder:validation:XValidation:rule="!self",message="pullMode is not supported by this version of Tugboat: Tugboat reaches clusters agentless, through their kubeconfig"
	// +optional
	PullMode bool `json:"pullMode,omitempty"`
}

// SveltosClusterStatus is what the cluster controller last observed.
type SveltosClusterStatus struct {
	// Version is the cluster's Kubernetes version as reported by /version.
	// +optional
	Version string `json:"version,omitempty"`

	// Ready is true when the cluster is reachable with its kubeconfig.
	// +optional
	Ready bool `json:"ready,omitempty"`

	// ConnectionStatus is Healthy or Down.
	// +optional
	ConnectionStatus ConnectionStatus `json:"connectionStatus,omitempty"`

	// FailureMessage says why the last probe failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`

	// ConnectionFailures counts the probes that failed in a row.
	// +optional
	ConnectionFailures int `json:"connectionFailures,omitempty"`

	// LastReconciledTokenRequestAt is when the token was last renewed.
	// +optional
	LastReconciledTokenRequestAt string `json:"lastReconciledTokenRequestAt,omitempty"`
}

// SveltosCluster is a cluster managed by Tugboat, reached through a kubeconfig Secret.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=sveltosclusters,scope=Namespaced,categories=tugboat
// +kubebuilder:printcolumn:name="Ready",type="boolean",JSONPath=".status.ready",description="Whether the cluster is reachable"
// +kubebuilder:printcolumn:name="Version",type="string",JSONPath=".status.version",description="Kubernetes version of the cluster"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Connection",type="string",JSONPath=".status.connectionStatus",priority=1
// +kubebuilder:printcolumn:name="Message",type="string",JSONPath=".status.failureMessage",priority=1
type SveltosCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SveltosClusterSpec   `json:"spec,omitempty"`
	Status SveltosClusterStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SveltosClusterList is a list of SveltosClusters.
type SveltosClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SveltosCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SveltosCluster{}, &SveltosClusterList{})
}

// KubeconfigSecretName is the name of the Secret that holds the cluster's kubeconfig.
func (c *SveltosCluster) KubeconfigSecretName() string {
	if c.Spec.KubeconfigName != "" {
		return c.Spec.KubeconfigName
	}
	return c.Name + KubeconfigSecretSuffix
}
