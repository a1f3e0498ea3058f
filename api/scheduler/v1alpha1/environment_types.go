package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EnvironmentSpec says where the environment-specific part of the control plane
// lives and, in the management cluster, where its commits go next.
type EnvironmentSpec struct {
	// ControlPlane is the branch (and folder) of the control-plane repository that
	// holds this environment's cluster types, configs, policies and pointers.
	ControlPlane RepositoryReference `json:"controlPlane"`

	// Promotion names the next environment and how a control-plane commit this
	// environment runs is promoted to it. A Tugboat extension of the Kalypso model,
	// read on Environments in the management cluster (the scheduler ignores it in a
	// control-plane repository).
	// +optional
	Promotion *Promotion `json:"promotion,omitempty"`
}

// PromotionMode says when the gate to the next environment opens.
// +kubebuilder:validation:Enum=Automatic;Manual
type PromotionMode string

const (
	// PromotionAutomatic opens the gate once every member cluster runs the commit
	// (and the bake time and window allow).
	PromotionAutomatic PromotionMode = "Automatic"
	// PromotionManual also waits for an approval of the commit: the annotation
	// ApprovedCommitAnnotation on the next environment (`tug promote approve NEXT`).
	PromotionManual PromotionMode = "Manual"
)

// ApprovedCommitAnnotation, on an Environment, approves the promotion of one
// control-plane commit into it (the full commit id or a prefix of at least 7
// characters). `tug promote approve ENV` sets it to the commit waiting.
const ApprovedCommitAnnotation = "scheduler.kalypso.io/approved-commit"

// Promotion is how an environment's control-plane commit moves to the next one
// (a Tugboat extension). When the gate opens, Tugboat writes the commit into the
// next environment's BaseRepo (spec.commit) on its control-plane branch — a
// commit, or a pull request — and the scheduler renders it.
// +kubebuilder:validation:XValidation:rule="!has(self.bakeTime) || duration(self.bakeTime) >= duration('0s')",message="bakeTime must not be negative"
type Promotion struct {
	// Next is the environment (an Environment in the same namespace) that receives
	// the commit.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Next string `json:"next"`

	// Mode is Automatic (default: when every member cluster runs the commit) or
	// Manual (also after an approval).
	// +kubebuilder:default=Automatic
	// +optional
	Mode PromotionMode `json:"mode,omitempty"`

	// BakeTime is how long every member cluster must have run the commit before it
	// is promoted.
	// +optional
	BakeTime *metav1.Duration `json:"bakeTime,omitempty"`

	// Windows restrict promotions to these times (UTC); none: any time.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Windows []PromotionWindow `json:"windows,omitempty"`

	// PullRequest proposes the change of the next environment's BaseRepo as a
	// pull request (through the forge of the next environment's GitOpsRepo: its
	// github settings, against the control-plane repository) instead of pushing it
	// to the branch.
	// +optional
	PullRequest bool `json:"pullRequest,omitempty"`
}

// PromotionWindow is a daily time range (UTC) in which promotions may happen. An
// end before the start spans midnight.
// +kubebuilder:validation:XValidation:rule="self.start != self.end",message="a window's start and end differ"
type PromotionWindow struct {
	// Days the window opens on (Mon … Sun); empty: every day. For a window spanning
	// midnight, the day it opens.
	// +optional
	// +kubebuilder:validation:MaxItems=7
	Days []Weekday `json:"days,omitempty"`
	// Start is HH:MM (UTC).
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	Start string `json:"start"`
	// End is HH:MM (UTC).
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	End string `json:"end"`
}

// Weekday is a day of the week.
// +kubebuilder:validation:Enum=Mon;Tue;Wed;Thu;Fri;Sat;Sun
type Weekday string

// Condition types of an Environment in the management cluster, beside Ready.
const (
	// ConditionCompliant: every member cluster runs the environment's control-plane commit, healthy.
	ConditionCompliant = "Compliant"
	// ConditionPromoted: the commit reached the next environment (False says what waits for what).
	ConditionPromoted = "Promoted"
)

// ClusterCompliance is what one member cluster runs.
type ClusterCompliance struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// ClusterType is the cluster type it is a member of.
	ClusterType string `json:"clusterType"`
	// Delivery is tugboat, flux or argocd.
	// +optional
	Delivery string `json:"delivery,omitempty"`
	// Revision is the platform GitOps repository commit it runs (empty: unknown).
	// +optional
	Revision string `json:"revision,omitempty"`
	// Commit is the control-plane commit Revision was rendered from.
	// +optional
	Commit string `json:"commit,omitempty"`
	// Healthy: reachable, and its delivery applied without errors.
	Healthy bool `json:"healthy"`
	// Compliant: healthy and running the environment's commit.
	Compliant bool `json:"compliant"`
	// Message says why not, when not.
	// +optional
	Message string `json:"message,omitempty"`
}

// PromotionStatus is where the promotion to the next environment stands.
type PromotionStatus struct {
	// Next is the next environment.
	Next string `json:"next"`
	// Commit is the control-plane commit the gate is deciding on.
	// +optional
	Commit string `json:"commit,omitempty"`
	// Open: the gate let Commit through.
	Open bool `json:"open"`
	// Message says what waits for what.
	// +optional
	Message string `json:"message,omitempty"`
	// LastPromotedCommit is the last commit written to the next environment.
	// +optional
	LastPromotedCommit string `json:"lastPromotedCommit,omitempty"`
	// LastPromotionTime is when it was written.
	// +optional
	LastPromotionTime *metav1.Time `json:"lastPromotionTime,omitempty"`
	// PullRequest is the URL of the promotion's pull request, when one was opened.
	// +optional
	PullRequest string `json:"pullRequest,omitempty"`
}

// EnvironmentStatus is the observed state of an Environment (in the management
// cluster: compliance of its member clusters and its promotion).
type EnvironmentStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation last handled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Commit is the control-plane (main) commit the environment is rendered from.
	// +optional
	Commit string `json:"commit,omitempty"`

	// CompliantCommit is the control-plane commit every member cluster runs,
	// healthy, when they all run the same one.
	// +optional
	CompliantCommit string `json:"compliantCommit,omitempty"`

	// CompliantSince is when every member cluster was first seen running CompliantCommit.
	// +optional
	CompliantSince *metav1.Time `json:"compliantSince,omitempty"`

	// Members is "<compliant>/<members>", e.g. 1/2.
	// +optional
	Members string `json:"members,omitempty"`

	// Clusters are the member clusters and what each runs.
	// +optional
	Clusters []ClusterCompliance `json:"clusters,omitempty"`

	// Promotion is where the promotion to the next environment stands.
	// +optional
	Promotion *PromotionStatus `json:"promotion,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:printcolumn:name="Commit",type=string,JSONPath=`.status.commit`
// +kubebuilder:printcolumn:name="Compliant",type=string,JSONPath=`.status.conditions[?(@.type=="Compliant")].status`
// +kubebuilder:printcolumn:name="Members",type=string,JSONPath=`.status.members`
// +kubebuilder:printcolumn:name="Next",type=string,JSONPath=`.spec.promotion.next`
// +kubebuilder:printcolumn:name="Promotion",type=string,JSONPath=`.status.promotion.message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.promotion) || self.spec.promotion.next != self.metadata.name",message="an environment cannot promote to itself"

// Environment is a stage of the delivery pipeline (dev, stage, prod, ...).
type Environment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EnvironmentSpec   `json:"spec,omitempty"`
	Status EnvironmentStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions (internal/conditions.Holder).
func (e *Environment) GetConditions() *[]metav1.Condition { return &e.Status.Conditions }

// +kubebuilder:object:root=true

// EnvironmentList contains a list of Environment.
type EnvironmentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Environment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Environment{}, &EnvironmentList{})
}
