package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
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

// DefaultRenewedKubeconfigKey is the key of the kubeconfig Secret where a
// renewed kubeconfig is written when tokenRequestRenewalOption.kubeconfigKeyName
// is not set (spec.kubeconfigKeyName is then pointed at it).
const DefaultRenewedKubeconfigKey = "re-kubeconfig"

// TokenRequestRenewalOption has the cluster controller renew the
// ServiceAccount token in the cluster's kubeconfig: every
// renewTokenRequestInterval it asks the managed cluster for a new token of the
// ServiceAccount (a TokenRequest, made with the kubeconfig's own credentials,
// which must be allowed to create serviceaccounts/token for it) and writes the
// kubeconfig, with its user's credentials replaced by the new token, back into
// the kubeconfig Secret. status.lastReconciledTokenRequestAt records the last
// renewal. A renewal that fails is reported in status.failureMessage and a
// Warning Event, retried, and leaves the Secret as it was.
type TokenRequestRenewalOption struct {
	// RenewTokenRequestInterval is how often the token is renewed.
	RenewTokenRequestInterval metav1.Duration `json:"renewTokenRequestInterval"`

	// TokenDuration is how long a requested token is valid. Defaults to
	// renewTokenRequestInterval; make it longer so that the token outlives a
	// missed renewal. The managed cluster's API server issues tokens of at
	// least 10 minutes: a shorter duration is raised to 10 minutes.
	// +optional
	TokenDuration metav1.Duration `json:"tokenDuration,omitempty"`

	// SANamespace is the namespace of the ServiceAccount whose token is
	// requested. When saNamespace or saName is empty, the ServiceAccount is the
	// identity the current kubeconfig authenticates as (asked of the managed
	// cluster with a SelfSubjectReview); a kubeconfig that is not a
	// ServiceAccount's then fails the renewal.
	// +optional
	SANamespace string `json:"saNamespace,omitempty"`

	// SAName is the name of that ServiceAccount (see saNamespace).
	// +optional
	SAName string `json:"saName,omitempty"`

	// KubeconfigKeyName is the key of the kubeconfig Secret the renewed
	// kubeconfig is written to. When not set, it is "re-kubeconfig" and the
	// controller sets spec.kubeconfigKeyName to it, so that the cluster is
	// reached with the renewed kubeconfig while the original key stays as it
	// was written (set both to the same key to keep a GitOps-managed
	// SveltosCluster free of drift).
	// +optional
	KubeconfigKeyName *string `json:"kubeconfigKeyName,omitempty"`
}

// ActiveWindow opens and closes the cluster to changes on a schedule: from
// each time of From to the next time of To the cluster is in its window and
// receives changes; the rest of the time it is treated as paused (nothing is
// deployed to or withdrawn from it, its ClusterSummaries wait), exactly as with
// spec.paused. Both are cron expressions (five fields, or a descriptor such as
// @daily), in UTC unless they start with CRON_TZ=<zone>.
// status.nextUnpause and status.nextPause say when the window next opens and
// closes. An expression that does not parse is reported in status.failureMessage
// and a Warning Event, and the cluster is treated as paused until it is fixed.
type ActiveWindow struct {
	// From is when the window opens (cron).
	// +kubebuilder:validation:MinLength=1
	From string `json:"from"`
	// To is when the window closes (cron).
	// +kubebuilder:validation:MinLength=1
	To string `json:"to"`
}

// ClusterCheck is a check over resources of the managed cluster: the resources
// its resourceSelectors select are listed from the cluster and handed to the
// Lua function evaluate() of Condition as the global array resources.
// evaluate() returns a table with pass (bool; result is accepted too) and an
// optional message. A check that does not compile or fails at run time counts
// as failing, with its error in status.failureMessage.
type ClusterCheck struct {
	// Name identifies the check in messages.
	Name string `json:"name"`
	// ResourceSelectors select the resources handed to the check (group,
	// version, kind, namespace, name, labelFilters, selector, evaluate and
	// evaluateCEL, as an EventSource's).
	ResourceSelectors []ResourceSelector `json:"resourceSelectors"`
	// Condition is a Lua script defining evaluate(); it reads the selected
	// resources as the global resources and returns {pass=bool, message=string}.
	Condition string `json:"condition"`
}

// WorkloadIdentityProvider names the cloud whose workload identity reaches the cluster.
// +kubebuilder:validation:Enum=AWS;GCP;Azure
type WorkloadIdentityProvider string

// Workload identity providers.
const (
	WorkloadIdentityProviderAWS   WorkloadIdentityProvider = "AWS"
	WorkloadIdentityProviderGCP   WorkloadIdentityProvider = "GCP"
	WorkloadIdentityProviderAzure WorkloadIdentityProvider = "Azure"
)

// AWSWorkloadIdentityConfig is how to obtain an EKS token.
type AWSWorkloadIdentityConfig struct {
	// ClusterName is the EKS cluster's name (passed as --cluster-name).
	// +kubebuilder:validation:MinLength=1
	ClusterName string `json:"clusterName"`
	// RoleARN is the IAM role to assume first (passed as --role-arn); empty
	// uses the manager's own credentials.
	// +optional
	RoleARN string `json:"roleARN,omitempty"`
	// Region is the cluster's AWS region (passed as --region); empty uses the
	// plugin's default (AWS_REGION).
	// +optional
	Region string `json:"region,omitempty"`
}

// GCPWorkloadIdentityConfig names the GKE cluster. The token comes from the
// manager's Application Default Credentials; these fields are passed to the
// plugin as environment (CLOUDSDK_CORE_PROJECT, GKE_CLUSTER_NAME, GKE_LOCATION).
type GCPWorkloadIdentityConfig struct {
	// ProjectID is the GCP project of the cluster.
	// +kubebuilder:validation:MinLength=1
	ProjectID string `json:"projectID"`
	// ClusterName is the GKE cluster's name.
	// +kubebuilder:validation:MinLength=1
	ClusterName string `json:"clusterName"`
	// Location is the cluster's region or zone.
	// +kubebuilder:validation:MinLength=1
	Location string `json:"location"`
}

// AzureWorkloadIdentityConfig is how to obtain an AKS token with Azure
// workload identity.
type AzureWorkloadIdentityConfig struct {
	// TenantID is the Microsoft Entra tenant (passed as --tenant-id).
	// +kubebuilder:validation:MinLength=1
	TenantID string `json:"tenantID"`
	// ClientID is the managed identity or application federated with the
	// manager's ServiceAccount (passed as --client-id).
	// +kubebuilder:validation:MinLength=1
	ClientID string `json:"clientID"`
	// SubscriptionID, ResourceGroup and ClusterName name the AKS cluster; they
	// are recorded only (the token does not depend on them) and passed to the
	// plugin as environment (AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP,
	// AKS_CLUSTER_NAME).
	// +optional
	SubscriptionID string `json:"subscriptionID,omitempty"`
	// +optional
	ResourceGroup string `json:"resourceGroup,omitempty"`
	// +optional
	ClusterName string `json:"clusterName,omitempty"`
}

// WorkloadIdentityConfig reaches the cluster with short-lived tokens from the
// cloud's workload identity instead of a kubeconfig Secret: the manager
// connects to Endpoint and obtains each token by running the provider's
// standard Kubernetes credential plugin as a client-go exec plugin (AWS:
// "aws eks get-token", GCP: "gke-gcloud-auth-plugin", Azure: "kubelogin
// get-token --login workloadidentity"), exactly as a kubeconfig's exec user
// would; the plugin must be installed in the manager's image (the manager's
// --workload-identity-*-command flags name other commands). A plugin that
// fails makes the probe fail with its message.
// +kubebuilder:validation:XValidation:rule="(self.provider == 'AWS') == has(self.aws)",message="aws must be set if and only if provider is AWS"
// +kubebuilder:validation:XValidation:rule="(self.provider == 'GCP') == has(self.gcp)",message="gcp must be set if and only if provider is GCP"
// +kubebuilder:validation:XValidation:rule="(self.provider == 'Azure') == has(self.azure)",message="azure must be set if and only if provider is Azure"
type WorkloadIdentityConfig struct {
	// Provider is the cloud.
	Provider WorkloadIdentityProvider `json:"provider"`
	// Endpoint is the managed cluster's API server URL.
	// +kubebuilder:validation:MinLength=1
	Endpoint string `json:"endpoint"`
	// CASecretRef names a Secret, in the cluster's namespace, whose key ca.crt
	// holds the API server's CA certificate; without it the system's
	// certificate pool is used.
	// +optional
	CASecretRef *corev1.LocalObjectReference `json:"caSecretRef,omitempty"`
	// AWS configures an EKS cluster (provider AWS).
	// +optional
	AWS *AWSWorkloadIdentityConfig `json:"aws,omitempty"`
	// GCP configures a GKE cluster (provider GCP).
	// +optional
	GCP *GCPWorkloadIdentityConfig `json:"gcp,omitempty"`
	// Azure configures an AKS cluster (provider Azure).
	// +optional
	Azure *AzureWorkloadIdentityConfig `json:"azure,omitempty"`
}

// SveltosClusterSpec defines how to reach a managed cluster.
// +kubebuilder:validation:XValidation:rule="!has(self.workloadIdentity) || !has(self.kubeconfigName)",message="workloadIdentity, kubeconfigName: conflict"
// +kubebuilder:validation:XValidation:rule="!(has(self.pullMode) && self.pullMode) || !has(self.kubeconfigName)",message="pullMode, kubeconfigName: conflict (a pull-mode cluster is reached through its agent, not a kubeconfig)"
// +kubebuilder:validation:XValidation:rule="!(has(self.pullMode) && self.pullMode) || !has(self.kubeconfigKeyName)",message="pullMode, kubeconfigKeyName: conflict (a pull-mode cluster is reached through its agent, not a kubeconfig)"
// +kubebuilder:validation:XValidation:rule="!(has(self.pullMode) && self.pullMode) || !has(self.workloadIdentity)",message="pullMode, workloadIdentity: conflict (a pull-mode cluster is reached through its agent)"
// +kubebuilder:validation:XValidation:rule="!(has(self.pullMode) && self.pullMode) || !has(self.tokenRequestRenewalOption)",message="pullMode, tokenRequestRenewalOption: conflict (a pull-mode cluster has no kubeconfig token to renew)"
type SveltosClusterSpec struct {
	// KubeconfigName is the Secret, in the cluster's namespace, holding the kubeconfig.
	// Defaults to <cluster name>-sveltos-kubeconfig.
	// +optional
	KubeconfigName string `json:"kubeconfigName,omitempty"`

	// KubeconfigKeyName is the key of the kubeconfig in that Secret. Defaults to
	// "kubeconfig", else the Secret's only key (with several, the first in name order).
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

	// TokenRequestRenewalOption renews the ServiceAccount token of the
	// kubeconfig before it expires (see TokenRequestRenewalOption).
	// +optional
	TokenRequestRenewalOption *TokenRequestRenewalOption `json:"tokenRequestRenewalOption,omitempty"`

	// ActiveWindow pauses and unpauses the cluster on a schedule (see ActiveWindow).
	// +optional
	ActiveWindow *ActiveWindow `json:"activeWindow,omitempty"`

	// ReadinessChecks must all pass, after a successful probe, before the
	// cluster becomes ready (status.ready); until then status.failureMessage
	// names the failing check. Once ready they are not evaluated again.
	// +optional
	ReadinessChecks []ClusterCheck `json:"readinessChecks,omitempty"`

	// LivenessChecks are evaluated at every probe of a ready cluster: while
	// any fails, status.connectionStatus is Down (sets fail over, the message
	// names the check); when all pass again it is Healthy.
	// +optional
	LivenessChecks []ClusterCheck `json:"livenessChecks,omitempty"`

	// PullMode reaches the cluster through an agent that runs in (or beside)
	// it and dials out to the manager, instead of the manager connecting to
	// the cluster's API server: the agent ("tug agent", set up by "tug
	// register cluster --pull-mode") opens an HTTPS connection to the
	// manager's pull-mode hub (manager flag --pullmode-hub-address),
	// authenticates with a management-cluster ServiceAccount token that may
	// "connect" sveltosclusters/agent for this cluster, and from then on
	// carries the manager's Kubernetes API requests to its local API server
	// with its own local credentials. The management cluster needs no
	// kubeconfig Secret and no network route to the managed cluster, and every
	// feature (resources, Helm, Kustomize, drift, validateHealths, events,
	// classifiers, readiness and liveness checks) works unchanged through the
	// agent. While the agent is not connected the cluster is not ready and
	// status.failureMessage says so. Mutually exclusive with kubeconfigName,
	// kubeconfigKeyName, workloadIdentity and tokenRequestRenewalOption.
	// Tugboat addition vs Sveltos: Sveltos' pull-mode agent pulls
	// ConfigurationGroups and applies them itself; Tugboat's agent only
	// carries the manager's requests, so deployment logic stays in the manager.
	// +optional
	PullMode bool `json:"pullMode,omitempty"`

	// WorkloadIdentity reaches the cluster with tokens from the cloud's
	// workload identity instead of a kubeconfig Secret (see
	// WorkloadIdentityConfig). Mutually exclusive with kubeconfigName.
	// +optional
	WorkloadIdentity *WorkloadIdentityConfig `json:"workloadIdentity,omitempty"`
}

// SveltosClusterStatus is what the cluster controller last observed.
type SveltosClusterStatus struct {
	// Version is the cluster's Kubernetes version as reported by /version.
	// +optional
	Version string `json:"version,omitempty"`

	// Ready is true when the cluster is reachable (with its kubeconfig, its
	// workload identity, or through its agent in pull mode).
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

	// LastReconciledTokenRequestAt is when the token was last renewed (RFC 3339).
	// +optional
	LastReconciledTokenRequestAt string `json:"lastReconciledTokenRequestAt,omitempty"`

	// AgentLastReportTime is, for a cluster in pull mode, when its agent last
	// connected to the manager or a probe through the agent last succeeded.
	// Not set for other clusters.
	// +optional
	AgentLastReportTime *metav1.Time `json:"agentLastReportTime,omitempty"`

	// NextUnpause is when the active window next opens (spec.activeWindow.from).
	// +optional
	NextUnpause *metav1.Time `json:"nextUnpause,omitempty"`

	// NextPause is when the active window next closes (spec.activeWindow.to).
	// +optional
	NextPause *metav1.Time `json:"nextPause,omitempty"`

	// ActiveWindowHash is the hash of the spec.activeWindow that nextPause and
	// nextUnpause were computed from.
	// +optional
	ActiveWindowHash []byte `json:"activeWindowHash,omitempty"`
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
// +kubebuilder:printcolumn:name="Shard",type="string",JSONPath=".metadata.annotations['sharding\\.projectsveltos\\.io/key']",description="Cluster shard",priority=1
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

// OutsideActiveWindow reports whether the cluster is outside the active window
// of spec.activeWindow as the cluster controller last recorded it: the window
// next opens before it next closes (status.nextUnpause before status.nextPause),
// or no opening is recorded although a window is set. A cluster without
// spec.activeWindow is never outside.
func (c *SveltosCluster) OutsideActiveWindow() bool {
	if c.Spec.ActiveWindow == nil {
		return false
	}
	if c.Status.NextUnpause == nil || c.Status.NextPause == nil {
		return len(c.Status.ActiveWindowHash) > 0 // computed, but the window never opens or closes
	}
	return !c.Status.NextPause.Before(c.Status.NextUnpause)
}
