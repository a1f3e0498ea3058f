package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ClusterPromotionKind is the kind of a ClusterPromotion.
const ClusterPromotionKind = "ClusterPromotion"

// ClusterPromotion labels and annotations on the ClusterProfiles it generates (Sveltos' names).
const (
	// PromotionNameLabel names the ClusterPromotion a generated ClusterProfile belongs to.
	PromotionNameLabel = "config.projectsveltos.io/promotionname"
	// PromotionStageAnnotation names the stage a generated ClusterProfile deploys.
	PromotionStageAnnotation = "config.projectsveltos.io/stagename"
)

// ProfileSpec is what a ClusterPromotion deploys at every stage: the spec of a
// ClusterProfile without its cluster selection (each stage brings its own).
type ProfileSpec struct {
	// SyncMode says how clusters are kept in line with this spec.
	// +kubebuilder:default=Continuous
	// +optional
	SyncMode libv1beta1.SyncMode `json:"syncMode,omitempty"`

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

	// MaxUpdate is how many clusters of a stage (a number or a percentage) are
	// updated at once when the spec changes.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern="^((100|[0-9]{1,2})%|[0-9]+)$"
	// +optional
	MaxUpdate *intstr.IntOrString `json:"maxUpdate,omitempty"`

	// StopMatchingBehavior says what happens to deployed objects when a cluster
	// stops matching a stage or a generated profile is deleted.
	// +kubebuilder:default=WithdrawPolicies
	// +optional
	StopMatchingBehavior libv1beta1.StopMatchingBehavior `json:"stopMatchingBehavior,omitempty"`

	// Reloader rolls the workloads mounting ConfigMaps/Secrets the stages'
	// profiles deploy (see ClusterProfile spec.reloader); passed on to them.
	// +optional
	Reloader bool `json:"reloader,omitempty"`

	// TemplateResourceRefs are management-cluster objects made available to templates.
	// +optional
	TemplateResourceRefs []libv1beta1.TemplateResourceRef `json:"templateResourceRefs,omitempty"`

	// DependsOn names ClusterProfiles that must be Provisioned in a cluster before
	// this content deploys there.
	// +optional
	DependsOn []string `json:"dependsOn,omitempty"`

	// PolicyRefs are ConfigMaps, Secrets and Flux sources whose objects are deployed.
	// +optional
	PolicyRefs []libv1beta1.PolicyRef `json:"policyRefs,omitempty"`

	// HelmCharts are releases to manage, in list order.
	// +optional
	HelmCharts []libv1beta1.HelmChart `json:"helmCharts,omitempty"`

	// KustomizationRefs are kustomizations to build and deploy.
	// +optional
	KustomizationRefs []libv1beta1.KustomizationRef `json:"kustomizationRefs,omitempty"`

	// ValidateHealths must pass in a cluster for a feature to be Provisioned there,
	// and so for a stage to be done.
	// +optional
	ValidateHealths []libv1beta1.ValidateHealth `json:"validateHealths,omitempty"`

	// Patches are applied to every object deployed that they target.
	// +optional
	Patches []libv1beta1.Patch `json:"patches,omitempty"`

	// PatchesFrom names ConfigMaps/Secrets whose data values are more patches
	// (see ClusterProfile spec.patchesFrom); passed on to the stages' ClusterProfiles.
	// +optional
	PatchesFrom []libv1beta1.ValueFrom `json:"patchesFrom,omitempty"`

	// DriftExclusions are fields drift detection ignores.
	// +optional
	DriftExclusions []libv1beta1.DriftExclusion `json:"driftExclusions,omitempty"`

	// MaxConsecutiveFailures stops retrying a feature in a cluster after this
	// many failures in a row.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxConsecutiveFailures *int32 `json:"maxConsecutiveFailures,omitempty"`

	// PreDeleteChecks must pass in a cluster before what the stage's profile
	// deployed there is withdrawn (see ClusterProfile spec.preDeleteChecks); they
	// are passed on to the stages' ClusterProfiles.
	// +optional
	PreDeleteChecks []libv1beta1.ValidateHealth `json:"preDeleteChecks,omitempty"`

	// PostDeleteChecks must pass in a cluster after what the stage's profile
	// deployed there is withdrawn, before its ClusterSummary is let go (see
	// ClusterProfile spec.postDeleteChecks); passed on to the stages' ClusterProfiles.
	// +optional
	PostDeleteChecks []libv1beta1.ValidateHealth `json:"postDeleteChecks,omitempty"`
}

// AutoTrigger promotes to the next stage on its own once the stage is done.
type AutoTrigger struct {
	// Delay is how long the stage must stay done (every cluster Provisioned)
	// before the next stage starts: a bake time.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="delay must not be negative"
	Delay *metav1.Duration `json:"delay,omitempty"`

	// PreHealthCheckDeployment are ConfigMaps/Secrets/Flux sources deployed to
	// the stage's clusters once the delay has passed (a ClusterProfile
	// preverification-<promotion>-<stage>, deleted when the rollout moves on),
	// e.g. a Job that validates the stage for the postDelayHealthChecks to check.
	// +optional
	PreHealthCheckDeployment []libv1beta1.PolicyRef `json:"preHealthCheckDeployment,omitempty"`

	// PostDelayHealthChecks are health checks added to the stage's ClusterProfile
	// once the delay has passed; the promotion waits until they pass in every
	// cluster of the stage.
	// +optional
	PostDelayHealthChecks []libv1beta1.ValidateHealth `json:"postDelayHealthChecks,omitempty"`

	// PromotionWindow restricts when the promotion may happen, once the delay
	// has passed: it waits for the window to be open.
	// +optional
	PromotionWindow *TimeWindow `json:"promotionWindow,omitempty"`
}

// TimeWindow is a recurring time range given by two cron expressions (five
// fields, or a descriptor such as @daily; UTC unless prefixed CRON_TZ=<zone>):
// open from each time of From until the next time of To.
type TimeWindow struct {
	// From is a cron expression: when the window opens.
	// +kubebuilder:validation:MinLength=1
	From string `json:"from"`

	// To is a cron expression: when the window closes.
	// +kubebuilder:validation:MinLength=1
	To string `json:"to"`
}

// ManualTrigger promotes to the next stage only once approved.
type ManualTrigger struct {
	// Approved: true approves the promotion from this stage to the next
	// (`tug promote approve clusterpromotion/NAME` sets it on the current stage).
	// +optional
	Approved *bool `json:"approved,omitempty"`

	// AutomaticReset clears approved once the promotion it approved happened, so
	// that a later rollout needs a new approval. Default true.
	// +kubebuilder:default=true
	// +optional
	AutomaticReset bool `json:"automaticReset,omitempty"`
}

// Trigger says when a stage promotes to the next one: manual or auto, not both.
// +kubebuilder:validation:XValidation:rule="has(self.manual) != has(self.auto)",message="a trigger has either manual or auto, not both"
type Trigger struct {
	// Manual waits for an approval.
	// +optional
	Manual *ManualTrigger `json:"manual,omitempty"`

	// Auto promotes once the stage is done (and its delay passed).
	// +optional
	Auto *AutoTrigger `json:"auto,omitempty"`
}

// Stage is one step of the rollout.
type Stage struct {
	// Name of the stage (a DNS label: it names the generated ClusterProfile
	// <promotion>-<stage>).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// ClusterSelector selects the clusters of this stage.
	// +optional
	ClusterSelector libv1beta1.Selector `json:"clusterSelector,omitempty"`

	// Trigger says when to promote to the next stage. Unset: as soon as this
	// stage is done. Ignored on the last stage.
	// +optional
	Trigger *Trigger `json:"trigger,omitempty"`
}

// ClusterPromotionSpec is the content to roll out and the stages to roll it out over.
type ClusterPromotionSpec struct {
	// ProfileSpec is deployed at every stage; changing it restarts the rollout
	// from the first stage.
	// +optional
	ProfileSpec ProfileSpec `json:"profileSpec,omitempty"`

	// Stages, in rollout order.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +listType=map
	// +listMapKey=name
	Stages []Stage `json:"stages"`

	// PreserveClusterProfilesOnDelete keeps the generated ClusterProfiles (and so
	// what they deployed) when the ClusterPromotion is deleted; they are released
	// (no owner) and must be cleaned up by hand.
	// +optional
	PreserveClusterProfilesOnDelete bool `json:"preserveClusterProfilesOnDelete,omitempty"`
}

// StagePhase is where one stage of a rollout stands (a Tugboat addition).
// +kubebuilder:validation:Enum=Provisioning;Provisioned;Failed;Promoted
type StagePhase string

const (
	// StageProvisioning: the stage's ClusterProfile is being deployed.
	StageProvisioning StagePhase = "Provisioning"
	// StageProvisioned: every cluster of the stage is Provisioned; the trigger decides.
	StageProvisioned StagePhase = "Provisioned"
	// StageFailed: a cluster of the stage failed; the rollout stops here.
	StageFailed StagePhase = "Failed"
	// StagePromoted: the rollout moved on to the next stage.
	StagePromoted StagePhase = "Promoted"
)

// StageStatus is the state of one stage the rollout reached.
type StageStatus struct {
	// Name of the stage.
	Name string `json:"name"`

	// Phase is where the stage stands (a Tugboat addition).
	// +optional
	Phase StagePhase `json:"phase,omitempty"`

	// PostDelayHealthChecks: the delay had passed and the auto trigger's
	// preHealthCheckDeployment and postDelayHealthChecks were added (a Tugboat addition).
	// +optional
	PostDelayHealthChecks bool `json:"postDelayHealthChecks,omitempty"`

	// LastUpdateReconciledTime is when the stage's ClusterProfile was last written.
	// +optional
	LastUpdateReconciledTime *metav1.Time `json:"lastUpdateReconciledTime,omitempty"`

	// LastSuccessfulAppliedTime is when every cluster of the stage was first seen
	// Provisioned with the current content.
	// +optional
	LastSuccessfulAppliedTime *metav1.Time `json:"lastSuccessfulAppliedTime,omitempty"`

	// LastStatusCheckTime is when the stage's state last changed.
	// +optional
	LastStatusCheckTime *metav1.Time `json:"lastStatusCheckTime,omitempty"`

	// FailureMessage says why the stage failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`

	// CurrentStatusDescription says what the stage waits for.
	// +optional
	CurrentStatusDescription *string `json:"currentStatusDescription,omitempty"`
}

// ClusterPromotionStatus is the progress of the rollout.
type ClusterPromotionStatus struct {
	// Stages the rollout reached, in order.
	// +optional
	Stages []StageStatus `json:"stages,omitempty"`

	// ProfileSpecHash identifies the profileSpec being rolled out.
	// +optional
	ProfileSpecHash []byte `json:"profileSpecHash,omitempty"`

	// StagesHash identifies the stages' names and selectors being rolled out over.
	// +optional
	StagesHash []byte `json:"stagesHash,omitempty"`

	// CurrentStageName is the stage being rolled out to (the last one when done).
	// +optional
	CurrentStageName string `json:"currentStageName,omitempty"`

	// LastPromotionTime is when the rollout last moved to a stage.
	// +optional
	LastPromotionTime *metav1.Time `json:"lastPromotionTime,omitempty"`

	// ObservedGeneration is the generation this status describes (a Tugboat addition).
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (True when every stage is done; False with reason
	// StageFailed when a stage failed) and Reconciling while the rollout progresses
	// (a Tugboat addition).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ClusterPromotion rolls one profile's content out stage by stage: for each stage
// reached, a ClusterProfile <name>-<stage> with spec.profileSpec and the stage's
// clusterSelector; the next stage starts once every cluster of the current one is
// Provisioned and its trigger allows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clusterpromotions,scope=Cluster,categories=tugboat
// +kubebuilder:printcolumn:name="Stage",type="string",JSONPath=".status.currentStageName",description="The stage being rolled out to"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Message",type="string",JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ClusterPromotion struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterPromotionSpec   `json:"spec"`
	Status ClusterPromotionStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions (internal/conditions.Holder).
func (p *ClusterPromotion) GetConditions() *[]metav1.Condition { return &p.Status.Conditions }

// +kubebuilder:object:root=true

// ClusterPromotionList is a list of ClusterPromotions.
type ClusterPromotionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterPromotion `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterPromotion{}, &ClusterPromotionList{})
}
