package clusterpromotion

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// SpecHashAnnotation on a generated ClusterProfile is the hash of the spec the
// ClusterPromotion gave it: a copy read from a cache is current when it matches.
const SpecHashAnnotation = "tugboat.dev/promotion-spec-hash"

// ProfileName is the name of the ClusterProfile generated for a stage
// (Sveltos' <promotion>-<stage>).
func ProfileName(promotion, stage string) string { return promotion + "-" + stage }

// VerificationProfileName is the name of the ClusterProfile deploying a stage's
// preHealthCheckDeployment (Sveltos' preverification-<promotion>-<stage>).
func VerificationProfileName(promotion, stage string) string {
	return "preverification-" + promotion + "-" + stage
}

// verificationSpec deploys a stage's preHealthCheckDeployment to its clusters.
func verificationSpec(p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage) configv1beta1.Spec {
	return configv1beta1.Spec{
		ClusterSelector:    *stage.ClusterSelector.DeepCopy(),
		SyncMode:           libv1beta1.SyncModeContinuous,
		Tier:               p.Spec.ProfileSpec.Tier,
		ContinueOnConflict: p.Spec.ProfileSpec.ContinueOnConflict,
		ContinueOnError:    p.Spec.ProfileSpec.ContinueOnError,
		PolicyRefs:         append([]libv1beta1.PolicyRef(nil), preHealthCheckDeployment(stage)...),
	}
}

// preHealthCheckDeployment returns what a stage deploys once its delay has passed.
func preHealthCheckDeployment(stage *configv1beta1.Stage) []libv1beta1.PolicyRef {
	if stage.Trigger == nil || stage.Trigger.Auto == nil {
		return nil
	}
	return stage.Trigger.Auto.PreHealthCheckDeployment
}

// verificationWanted: the current stage's delay has passed and it has a preHealthCheckDeployment.
func verificationWanted(p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage) bool {
	return stage.Name == p.Status.CurrentStageName && postDelayChecksAdded(p, stage.Name) && len(preHealthCheckDeployment(stage)) > 0
}

// ProfileSpecFor is the spec of the ClusterProfile of a stage: the promotion's
// profileSpec aimed at the stage's clusterSelector.
func ProfileSpecFor(p *configv1beta1.ProfileSpec, stage *configv1beta1.Stage) configv1beta1.Spec {
	p = p.DeepCopy()
	return configv1beta1.Spec{
		ClusterSelector:        *stage.ClusterSelector.DeepCopy(),
		SyncMode:               p.SyncMode,
		StopMatchingBehavior:   p.StopMatchingBehavior,
		Tier:                   p.Tier,
		ContinueOnConflict:     p.ContinueOnConflict,
		ContinueOnError:        p.ContinueOnError,
		MaxUpdate:              p.MaxUpdate,
		DependsOn:              p.DependsOn,
		TemplateResourceRefs:   p.TemplateResourceRefs,
		PolicyRefs:             p.PolicyRefs,
		HelmCharts:             p.HelmCharts,
		KustomizationRefs:      p.KustomizationRefs,
		Patches:                p.Patches,
		PatchesFrom:            p.PatchesFrom,
		DriftExclusions:        p.DriftExclusions,
		ValidateHealths:        p.ValidateHealths,
		Reloader:               p.Reloader,
		PreDeleteChecks:        p.PreDeleteChecks,
		PostDeleteChecks:       p.PostDeleteChecks,
		MaxConsecutiveFailures: p.MaxConsecutiveFailures,
	}
}

// desiredSpec is the spec of a stage's ClusterProfile now: ProfileSpecFor, plus
// the auto trigger's postDelayHealthChecks once the stage's delay has passed.
func desiredSpec(p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage) configv1beta1.Spec {
	spec := ProfileSpecFor(&p.Spec.ProfileSpec, stage)
	if postDelayChecksAdded(p, stage.Name) {
		spec.ValidateHealths = append(spec.ValidateHealths, stage.Trigger.Auto.PostDelayHealthChecks...)
	}
	return spec
}

// postDelayChecks returns the post-delay health checks of a stage's trigger.
func postDelayChecks(stage *configv1beta1.Stage) []libv1beta1.ValidateHealth {
	if stage.Trigger == nil || stage.Trigger.Auto == nil {
		return nil
	}
	return stage.Trigger.Auto.PostDelayHealthChecks
}

// postDelayChecksAdded: the stage's status says its post-delay checks are in its profile.
func postDelayChecksAdded(p *configv1beta1.ClusterPromotion, stage string) bool {
	for i := range p.Status.Stages {
		if p.Status.Stages[i].Name == stage {
			return p.Status.Stages[i].PostDelayHealthChecks
		}
	}
	return false
}

// hashOf is the sha256 of v's JSON.
func hashOf(v any) []byte {
	raw, _ := json.Marshal(v)
	sum := sha256.Sum256(raw)
	return sum[:]
}

// profileSpecHash identifies the content rolled out; stagesHash the stages'
// names and selectors (triggers excluded: approving is no change of the
// rollout). Either changing restarts the rollout, as in Sveltos.
func profileSpecHash(p *configv1beta1.ClusterPromotion) []byte { return hashOf(p.Spec.ProfileSpec) }

func stagesHash(p *configv1beta1.ClusterPromotion) []byte {
	type stage struct {
		Name     string              `json:"name"`
		Selector libv1beta1.Selector `json:"clusterSelector"`
	}
	stages := make([]stage, 0, len(p.Spec.Stages))
	for _, s := range p.Spec.Stages {
		stages = append(stages, stage{Name: s.Name, Selector: s.ClusterSelector})
	}
	return hashOf(stages)
}

// revision is the short form of a profileSpec hash the gate and messages use.
func revision(hash []byte) string { return hex.EncodeToString(hash) }

// errNotOwned: a ClusterProfile of the generated name exists and belongs to someone else.
var errNotOwned = errors.New("not owned")

// checkName rejects generated names the API server would refuse.
func checkName(promotion string, stage *configv1beta1.Stage) error {
	names := []string{ProfileName(promotion, stage.Name)}
	if len(preHealthCheckDeployment(stage)) > 0 {
		names = append(names, VerificationProfileName(promotion, stage.Name))
	}
	for _, name := range names {
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			return fmt.Errorf("the ClusterProfile name %q of stage %s is not valid: %s", name, stage.Name, msgs[0])
		}
	}
	return nil
}

// ensureProfile creates or updates the ClusterProfile of a stage.
func (r *Reconciler) ensureProfile(ctx context.Context, p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage) (written bool, err error) {
	return r.ensureGenerated(ctx, p, ProfileName(p.Name, stage.Name), stage.Name, desiredSpec(p, stage))
}

// ensureVerificationProfile creates or updates the ClusterProfile deploying a
// stage's preHealthCheckDeployment.
func (r *Reconciler) ensureVerificationProfile(ctx context.Context, p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage) (written bool, err error) {
	return r.ensureGenerated(ctx, p, VerificationProfileName(p.Name, stage.Name), stage.Name, verificationSpec(p, stage))
}

// ensureGenerated creates or updates a generated ClusterProfile; it writes
// only when the spec, labels or owner differ from what the promotion wants.
func (r *Reconciler) ensureGenerated(ctx context.Context, p *configv1beta1.ClusterPromotion, name, stageName string, spec configv1beta1.Spec) (written bool, err error) {
	hash := revision(hashOf(spec))
	profile := &configv1beta1.ClusterProfile{}
	err = r.Client.Get(ctx, types.NamespacedName{Name: name}, profile)
	switch {
	case apierrors.IsNotFound(err):
		profile = &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
		setGenerated(profile, p, stageName, hash)
		profile.Spec = spec
		if err := controllerutil.SetControllerReference(p, profile, r.Client.Scheme()); err != nil {
			return false, fmt.Errorf("owning ClusterProfile %s: %w", name, err)
		}
		if err := r.Client.Create(ctx, profile); err != nil {
			return false, fmt.Errorf("creating ClusterProfile %s of stage %s: %w", name, stageName, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("reading ClusterProfile %s of stage %s: %w", name, stageName, err)
	}
	if !metav1.IsControlledBy(profile, p) {
		return false, fmt.Errorf("ClusterProfile %s exists and does not belong to ClusterPromotion %s: rename the stage or the profile: %w", name, p.Name, errNotOwned)
	}
	if !profile.DeletionTimestamp.IsZero() {
		// A stage removed and added back: wait until the old one is gone.
		return false, nil
	}
	if profile.Annotations[SpecHashAnnotation] == hash && profile.Labels[configv1beta1.PromotionNameLabel] == p.Name &&
		profile.Annotations[configv1beta1.PromotionStageAnnotation] == stageName {
		return false, nil
	}
	setGenerated(profile, p, stageName, hash)
	profile.Spec = spec
	if err := r.Client.Update(ctx, profile); err != nil {
		return false, fmt.Errorf("updating ClusterProfile %s of stage %s: %w", name, stageName, err)
	}
	return true, nil
}

func setGenerated(profile *configv1beta1.ClusterProfile, p *configv1beta1.ClusterPromotion, stage, hash string) {
	metav1.SetMetaDataLabel(&profile.ObjectMeta, configv1beta1.PromotionNameLabel, p.Name)
	metav1.SetMetaDataAnnotation(&profile.ObjectMeta, configv1beta1.PromotionStageAnnotation, stage)
	metav1.SetMetaDataAnnotation(&profile.ObjectMeta, SpecHashAnnotation, hash)
}

// generatedProfiles lists the ClusterProfiles the promotion owns.
func (r *Reconciler) generatedProfiles(ctx context.Context, p *configv1beta1.ClusterPromotion) ([]configv1beta1.ClusterProfile, error) {
	list := &configv1beta1.ClusterProfileList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{configv1beta1.PromotionNameLabel: p.Name}); err != nil {
		return nil, fmt.Errorf("listing the ClusterProfiles of ClusterPromotion %s: %w", p.Name, err)
	}
	out := list.Items[:0]
	for _, cp := range list.Items {
		if metav1.IsControlledBy(&cp, p) {
			out = append(out, cp)
		}
	}
	return out, nil
}

// deleteStaleProfiles deletes the generated profiles of stages no longer in the spec.
func (r *Reconciler) deleteStaleProfiles(ctx context.Context, p *configv1beta1.ClusterPromotion) error {
	profiles, err := r.generatedProfiles(ctx, p)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for i := range p.Spec.Stages {
		s := &p.Spec.Stages[i]
		wanted[ProfileName(p.Name, s.Name)] = true
		if verificationWanted(p, s) {
			wanted[VerificationProfileName(p.Name, s.Name)] = true
		}
	}
	for i := range profiles {
		cp := &profiles[i]
		if wanted[cp.Name] || !cp.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Client.Delete(ctx, cp); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting ClusterProfile %s of a removed stage: %w", cp.Name, err)
		}
		r.event(p, "Normal", ReasonProfileDeleted, "deleted ClusterProfile %s of stage %s: no longer wanted", cp.Name, cp.Annotations[configv1beta1.PromotionStageAnnotation])
	}
	return nil
}

// stageState is how the ClusterProfile of a stage stands.
type stageState struct {
	Phase   configv1beta1.StagePhase
	Message string
}

// observeStage reads the ClusterProfile of a stage: Provisioned when it carries
// the current spec and its Ready condition (every matching cluster Provisioned,
// health checks passed) is True for its generation; Failed when a cluster failed
// or the profile is stalled; Provisioning otherwise.
func (r *Reconciler) observeStage(ctx context.Context, p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage) (stageState, error) {
	state, found, err := r.profileState(ctx, ProfileName(p.Name, stage.Name), stage, desiredSpec(p, stage))
	if err != nil || !found || state.Phase == configv1beta1.StageFailed || !verificationWanted(p, stage) {
		return state, err
	}
	// The preHealthCheckDeployment must be deployed too.
	vstate, found, err := r.profileState(ctx, VerificationProfileName(p.Name, stage.Name), stage, verificationSpec(p, stage))
	if err != nil || !found {
		return vstate, err
	}
	if vstate.Phase == configv1beta1.StageProvisioned {
		return state, nil
	}
	if vstate.Phase == configv1beta1.StageFailed {
		return vstate, nil
	}
	if state.Phase == configv1beta1.StageProvisioned {
		return stageState{Phase: configv1beta1.StageProvisioning, Message: "preHealthCheckDeployment: " + vstate.Message}, nil
	}
	return state, nil
}

// profileState reads the ClusterProfile name that stage generates and judges it
// against the spec it should hold (stateOf). found is false while it does not
// exist: the state then says it is being created.
func (r *Reconciler) profileState(ctx context.Context, name string, stage *configv1beta1.Stage, spec configv1beta1.Spec) (stageState, bool, error) {
	profile := &configv1beta1.ClusterProfile{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: name}, profile); err != nil {
		if apierrors.IsNotFound(err) {
			return stageState{Phase: configv1beta1.StageProvisioning, Message: "ClusterProfile " + name + " is being created"}, false, nil
		}
		return stageState{}, false, fmt.Errorf("reading ClusterProfile %s of stage %s: %w", name, stage.Name, err)
	}
	return stateOf(profile, revision(hashOf(spec))), true, nil
}

// stateOf is observeStage's verdict on a profile (pure).
func stateOf(profile *configv1beta1.ClusterProfile, wantHash string) stageState {
	provisioning := func(msg string) stageState {
		return stageState{Phase: configv1beta1.StageProvisioning, Message: msg}
	}
	if profile.Annotations[SpecHashAnnotation] != wantHash {
		return provisioning("ClusterProfile " + profile.Name + " is being updated")
	}
	var ready, stalled *metav1.Condition
	for i := range profile.Status.Conditions {
		c := &profile.Status.Conditions[i]
		switch c.Type {
		case "Ready":
			ready = c
		case "Stalled":
			stalled = c
		}
	}
	if ready == nil || ready.ObservedGeneration != profile.Generation {
		return provisioning("ClusterProfile " + profile.Name + " is being evaluated")
	}
	switch {
	case stalled != nil && stalled.Status == metav1.ConditionTrue:
		return stageState{Phase: configv1beta1.StageFailed, Message: "ClusterProfile " + profile.Name + ": " + stalled.Message}
	case len(profile.Status.FailedClusters) > 0:
		return stageState{Phase: configv1beta1.StageFailed, Message: "ClusterProfile " + profile.Name + ": " + ready.Message}
	case ready.Status == metav1.ConditionTrue:
		return stageState{Phase: configv1beta1.StageProvisioned, Message: ready.Message}
	}
	return provisioning(ready.Message)
}
