package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GitOpsRepoSpec is where the scheduler writes an environment's rendered manifests.
//
// In a control-plane repository only repo, branch and path are used. A GitOpsRepo
// created in the management cluster with controlPlane set is a job of the
// manager's scheduler controller: it renders that environment of the control-plane
// repository into repo/branch/path whenever the control plane changes (polled
// every interval, or at once through the webhook
// POST /hooks/scheduler/<namespace>/<name>).
// +kubebuilder:validation:XValidation:rule="!has(self.github) || !has(self.gitea)",message="set github or gitea, not both"
type GitOpsRepoSpec struct {
	RepositoryReference `json:",inline"`

	// ControlPlane is the control-plane repository (URL or local path) the
	// scheduler controller renders from; the controller ignores GitOpsRepos without it.
	// +optional
	ControlPlane string `json:"controlPlane,omitempty"`

	// Environment is the environment to schedule (default: the object's name).
	// +optional
	Environment string `json:"environment,omitempty"`

	// Interval is how often the control-plane repository is polled (default 5m).
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Direct pushes the rendered tree straight to branch instead of proposing it
	// as a pull request.
	// +optional
	Direct bool `json:"direct,omitempty"`

	// GitHub is the forge receiving the pull requests when not Direct. Without
	// github or gitea the forge is chosen from repo's host: Gitea for codeberg.org
	// and hosts whose name contains gitea or forgejo, GitHub otherwise.
	// +optional
	GitHub *GitHubForge `json:"github,omitempty"`

	// Gitea selects the REST API of Gitea, which Forgejo serves too, for the pull
	// requests and the error reports.
	// +optional
	Gitea *GiteaForge `json:"gitea,omitempty"`

	// ReportErrors reports the deployment targets that fail to render on the
	// forge as well as in status: in the scheduler's pull request (its body, or a
	// comment when the errors change), else in an issue, which is closed once
	// they are fixed. Default true; with direct, only when github or gitea is set.
	// +optional
	ReportErrors *bool `json:"reportErrors,omitempty"`
}

// GiteaForge configures pull requests and issues through the Gitea/Forgejo REST API (v1).
type GiteaForge struct {
	// APIURL is the REST API root (default: <scheme>://<host>[/prefix]/api/v1 of repo).
	// +optional
	APIURL string `json:"apiURL,omitempty"`

	// TokenSecretRef names a Secret in the GitOpsRepo's namespace and the key
	// holding the API token (sent as "Authorization: token ...").
	// +optional
	TokenSecretRef *SecretKeyReference `json:"tokenSecretRef,omitempty"`
}

// GitHubForge configures pull requests through the GitHub REST API.
type GitHubForge struct {
	// APIURL is the REST API root (default https://api.github.com).
	// +optional
	APIURL string `json:"apiURL,omitempty"`

	// TokenSecretRef names a Secret in the GitOpsRepo's namespace and the key
	// holding the API token.
	// +optional
	TokenSecretRef *SecretKeyReference `json:"tokenSecretRef,omitempty"`
}

// SecretKeyReference is a key of a Secret in the referring object's namespace.
type SecretKeyReference struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key defaults to "token".
	// +optional
	Key string `json:"key,omitempty"`
}

// Condition types of a GitOpsRepo the scheduler controller handles, beside Ready
// (internal/conditions): the control plane's last commit was rendered and
// published without errors.
const (
	// ConditionRendered: every deployment target rendered (False lists the failures).
	ConditionRendered = "Rendered"
	// ConditionPushed: the rendered tree is on the GitOps repository (or proposed).
	ConditionPushed = "Pushed"
	// ConditionReported: the forge holds the report of the targets that failed
	// (or of their fix); absent when errors are not reported.
	ConditionReported = "Reported"
	// ConditionDelivered: the delivery objects of every cluster-type folder on the
	// branch are in place (the GitRepository and the generated ClusterProfiles).
	ConditionDelivered = "Delivered"
)

// ClusterTypeDelivery says how one cluster-type folder of the environment's
// branch reaches the member clusters (a Tugboat extension).
type ClusterTypeDelivery struct {
	// ClusterType is the folder's cluster type.
	ClusterType string `json:"clusterType"`
	// Mode is tugboat, flux or argocd (the ClusterType's scheduler.kalypso.io/delivery label).
	Mode string `json:"mode"`
	// Profile is the generated ClusterProfile delivering the folder (mode tugboat).
	// +optional
	Profile string `json:"profile,omitempty"`
	// Reconciler is <namespace>/<name> of the in-cluster Flux Kustomization or Argo
	// CD Application that delivers the folder (modes flux and argocd).
	// +optional
	Reconciler string `json:"reconciler,omitempty"`
}

// TargetError is a scheduling failure confined to one deployment target on one
// cluster type (or to one control-plane object).
type TargetError struct {
	Environment string `json:"environment,omitempty"`
	// +optional
	ClusterType string `json:"clusterType,omitempty"`
	// +optional
	DeploymentTarget string `json:"deploymentTarget,omitempty"`
	// Object is the control-plane object at fault when no target is concerned.
	// +optional
	Object string `json:"object,omitempty"`
	// Message is the whole error, naming environment, cluster type, target and cause.
	Message string `json:"message"`
}

// GitOpsRepoStatus is the observed state of a GitOpsRepo.
type GitOpsRepoStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastPushedCommit is the commit the scheduler last pushed.
	// +optional
	LastPushedCommit string `json:"lastPushedCommit,omitempty"`

	// PullRequest is the URL of the scheduler's open pull request, if any.
	// +optional
	PullRequest string `json:"pullRequest,omitempty"`

	// ObservedGeneration is the generation last handled by the scheduler controller.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedCommit is the control-plane environment branch commit last rendered.
	// +optional
	ObservedCommit string `json:"observedCommit,omitempty"`

	// ObservedMainCommit is the control-plane main commit last rendered.
	// +optional
	ObservedMainCommit string `json:"observedMainCommit,omitempty"`

	// TargetErrors are the targets that failed to render at ObservedCommit; the
	// others were published, and the failed ones keep their previous files.
	// +optional
	TargetErrors []TargetError `json:"targetErrors,omitempty"`

	// Source is <namespace>/<name> of the Flux GitRepository the scheduler
	// generated to follow the branch (delivery by Tugboat).
	// +optional
	Source string `json:"source,omitempty"`

	// BranchCommit is the head of the GitOps branch when delivery was last updated.
	// +optional
	BranchCommit string `json:"branchCommit,omitempty"`

	// Delivery lists the cluster-type folders on the branch and how each reaches
	// the member clusters.
	// +optional
	Delivery []ClusterTypeDelivery `json:"delivery,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,path=gitopsrepos
// +kubebuilder:printcolumn:name="Repo",type=string,JSONPath=`.spec.repo`
// +kubebuilder:printcolumn:name="Branch",type=string,JSONPath=`.spec.branch`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Commit",type=string,JSONPath=`.status.observedCommit`,priority=1

// GitOpsRepo is the branch/folder of the platform GitOps repository an environment
// is rendered into.
type GitOpsRepo struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GitOpsRepoSpec   `json:"spec,omitempty"`
	Status GitOpsRepoStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions (internal/conditions.Holder).
func (r *GitOpsRepo) GetConditions() *[]metav1.Condition { return &r.Status.Conditions }

// +kubebuilder:object:root=true

// GitOpsRepoList contains a list of GitOpsRepo.
type GitOpsRepoList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitOpsRepo `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GitOpsRepo{}, &GitOpsRepoList{})
}
