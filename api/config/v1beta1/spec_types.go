package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Spec is the spec shared by ClusterProfile and Profile: which clusters to target
// and what to deploy there. A copy of it travels in each ClusterSummary.
type Spec struct {
	// ClusterSelector selects clusters by label (matchLabels / matchExpressions).
	// An empty selector selects no cluster.
	// +optional
	ClusterSelector libv1beta1.Selector `json:"clusterSelector,omitempty"`

	// ClusterRefs lists clusters explicitly; they are added to those selected.
	// +optional
	ClusterRefs []corev1.ObjectReference `json:"clusterRefs,omitempty"`

	// SetRefs names ClusterSets (for a ClusterProfile) or Sets in the same namespace
	// (for a Profile); the clusters they select are added.
	// +optional
	SetRefs []string `json:"setRefs,omitempty"`

	// SyncMode says how clusters are kept in line with this spec.
	// +kubebuilder:default=Continuous
	// +optional
	SyncMode libv1beta1.SyncMode `json:"syncMode,omitempty"`

	// StopMatchingBehavior says what happens to deployed objects when a cluster stops
	// matching or the profile is deleted.
	// +kubebuilder:default=WithdrawPolicies
	// +optional
	StopMatchingBehavior libv1beta1.StopMatchingBehavior `json:"stopMatchingBehavior,omitempty"`

	// Tier orders profiles that want the same object: the lower tier wins.
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=1
	// +optional
	Tier int32 `json:"tier,omitempty"`

	// ContinueOnConflict keeps deploying the rest of a feature after a conflict.
	// +optional
	ContinueOnConflict bool `json:"continueOnConflict,omitempty"`

	// ContinueOnError keeps deploying the rest of a feature after an error.
	// +optional
	ContinueOnError bool `json:"continueOnError,omitempty"`

	// MaxUpdate is how many matching clusters (a number or a percentage) are updated at
	// once when the spec changes.
	// +kubebuilder:default="100%"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern="^((100|[0-9]{1,2})%|[0-9]+)$"
	// +optional
	MaxUpdate *intstr.IntOrString `json:"maxUpdate,omitempty"`

	// DependsOn names profiles (of the same kind) that must be Provisioned in a cluster
	// before this one deploys there.
	// +optional
	DependsOn []string `json:"dependsOn,omitempty"`

	// TemplateResourceRefs are management-cluster objects made available to templates.
	// +optional
	TemplateResourceRefs []libv1beta1.TemplateResourceRef `json:"templateResourceRefs,omitempty"`

	// PolicyRefs are ConfigMaps, Secrets and Flux sources whose objects are deployed.
	// +optional
	PolicyRefs []libv1beta1.PolicyRef `json:"policyRefs,omitempty"`

	// HelmCharts are releases to manage, in list order.
	// +optional
	HelmCharts []libv1beta1.HelmChart `json:"helmCharts,omitempty"`

	// KustomizationRefs are kustomizations to build and deploy.
	// +optional
	KustomizationRefs []libv1beta1.KustomizationRef `json:"kustomizationRefs,omitempty"`

	// Patches are applied to every object this profile deploys that they target:
	// policyRefs and kustomizationRefs objects, and the objects its Helm charts
	// render (a post-renderer; a change of patches upgrades the release). Each
	// patch is a template rendered for the cluster (.Cluster, .MgmtResources).
	// +optional
	Patches []libv1beta1.Patch `json:"patches,omitempty"`

	// PatchesFrom names ConfigMaps/Secrets of the management cluster whose data
	// values are more patches, one per key (in key order), without target (a
	// strategic merge patch names its object): they are applied after spec.patches,
	// like them, to every object this profile deploys, Helm releases' included.
	// Each value may be a template rendered for the cluster (.Cluster; not
	// .MgmtResources). Name and namespace may be templates; an empty namespace is
	// the cluster's (a Profile's own for a Profile). A change of a referenced
	// object re-deploys. A missing object (unless optional) or a template that
	// fails fails every feature, naming the entry and the key; nothing is deployed.
	// +optional
	PatchesFrom []libv1beta1.ValueFrom `json:"patchesFrom,omitempty"`

	// DriftExclusions are fields drift detection ignores.
	// +optional
	DriftExclusions []libv1beta1.DriftExclusion `json:"driftExclusions,omitempty"`

	// ValidateHealths must pass after deployment for a feature to be Provisioned:
	// until every check of a feature passes on every object it selects in the
	// cluster, the feature stays Provisioning with the failing check's message
	// (and maxUpdate does not move on). The objects are watched: a change
	// re-evaluates the checks.
	// +optional
	ValidateHealths []libv1beta1.ValidateHealth `json:"validateHealths,omitempty"`

	// ExtraLabels are added to every deployed object.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty"`

	// ExtraAnnotations are added to every deployed object.
	// +optional
	ExtraAnnotations map[string]string `json:"extraAnnotations,omitempty"`

	// Reloader rolls the workloads that mount what this profile deploys: after
	// policyRefs or kustomizationRefs objects are applied to a cluster, every
	// Deployment, StatefulSet and DaemonSet in the namespace of a ConfigMap or
	// Secret just deployed that mounts it (volumes, projected volumes, envFrom,
	// env valueFrom) gets the annotation tugboat.dev/reloaded-config on its pod
	// template: a hash of the content of the mounted objects. A new content
	// changes the annotation and so rolls the workload; an unchanged content
	// writes nothing. Objects of Helm releases are not considered.
	// +optional
	Reloader bool `json:"reloader,omitempty"`

	// PreDeployChecks must pass in a cluster before a feature of this profile is
	// deployed there: a check gates the feature its featureID names (Resources,
	// Kustomize, Helm). Unlike validateHealths, at least one object must be
	// selected (a check with neither script nor evaluateCEL only asks that one
	// exists), and every selected object must pass. Until they pass the feature
	// stays Provisioning with the failing check's message and nothing of it is
	// applied; the objects are watched in the cluster and a change re-evaluates
	// the checks. They gate a feature that has nothing deployed in the cluster
	// (its first deployment, or after a failure); a deployed feature is updated
	// without them. A check that does not compile fails the feature.
	// +optional
	PreDeployChecks []libv1beta1.ValidateHealth `json:"preDeployChecks,omitempty"`

	// PreDeleteChecks must pass before what this profile deployed in a cluster is
	// withdrawn (the cluster stops matching, or the profile is deleted): until every
	// selected object passes, nothing is withdrawn and the ClusterSummary stays,
	// its failureMessage naming the check, the object and why (no selected
	// object passes). The objects are watched: a change re-evaluates the checks.
	// A check that does not compile holds the withdrawal with the compile error.
	// Not evaluated with stopMatchingBehavior LeavePolicies (nothing is withdrawn).
	// +optional
	PreDeleteChecks []libv1beta1.ValidateHealth `json:"preDeleteChecks,omitempty"`

	// PostDeleteChecks must pass after what this profile deployed in a cluster is
	// withdrawn, before the ClusterSummary is let go: until every selected object
	// passes, the summary stays with failureMessage naming the check, the object
	// and why (no selected object passes); its features say Removed. The objects
	// are watched: a change re-evaluates the checks. Not evaluated with
	// stopMatchingBehavior LeavePolicies (nothing is withdrawn).
	// +optional
	PostDeleteChecks []libv1beta1.ValidateHealth `json:"postDeleteChecks,omitempty"`

	// MaxConsecutiveFailures stops retrying a feature in a cluster after this
	// many failures in a row (errors a retry could fix: an unreachable cluster or
	// chart repository); the failure message says so. A change of the profile, of
	// what it references or of the cluster tries again. Unset: retry with backoff
	// forever.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxConsecutiveFailures *int32 `json:"maxConsecutiveFailures,omitempty"`
}

// Clusters is a set of clusters that share an update state, with the hash of the
// spec they are being brought to.
type Clusters struct {
	// Hash of the profile spec this group is being updated to / was updated to.
	// +optional
	Hash []byte `json:"hash,omitempty"`

	// Clusters in this group.
	// +optional
	Clusters []corev1.ObjectReference `json:"clusters,omitempty"`
}

// FailedCluster is a cluster where the profile could not be deployed.
type FailedCluster struct {
	// ClusterRef is the cluster.
	ClusterRef corev1.ObjectReference `json:"clusterRef"`

	// FailureMessage says what went wrong.
	// +optional
	FailureMessage string `json:"failureMessage,omitempty"`

	// LastFailureTime is when it last went wrong.
	// +optional
	LastFailureTime *metav1.Time `json:"lastFailureTime,omitempty"`
}

// Status is the status shared by ClusterProfile and Profile.
type Status struct {
	// MatchingClusterRefs are the clusters the profile currently targets.
	// +optional
	MatchingClusterRefs []corev1.ObjectReference `json:"matchingClusters,omitempty"`

	// UpdatingClusters are the clusters being brought to the current spec (at most maxUpdate).
	// +optional
	UpdatingClusters *Clusters `json:"updatingClusters,omitempty"`

	// UpdatedClusters are the clusters already at the current spec.
	// +optional
	UpdatedClusters *Clusters `json:"updatedClusters,omitempty"`

	// FailedClusters are the clusters where deployment failed.
	// +optional
	FailedClusters []FailedCluster `json:"failedClusters,omitempty"`

	// Conditions summarise the profile's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ProfileObject is implemented by ClusterProfile and Profile, so that code can deal
// with both kinds at once.
// +kubebuilder:object:generate=false
type ProfileObject interface {
	metav1.Object
	runtime.Object
	// GetSpec returns the profile's spec (modifiable).
	GetSpec() *Spec
	// GetStatus returns the profile's status (modifiable).
	GetStatus() *Status
}
