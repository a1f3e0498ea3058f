// Package clusterpromotion rolls a profile's content out stage by stage
// (Sveltos' ClusterPromotion, config.projectsveltos.io/v1beta1). It only
// produces ClusterProfiles — one per stage reached, <promotion>-<stage>, with
// spec.profileSpec and the stage's clusterSelector, owned by the promotion —
// and the ClusterProfile and ClusterSummary controllers deploy them. A stage is
// done when its profile is Ready (every matching cluster Provisioned, health
// checks passed); then internal/promotion's gate, the one the scheduler's
// Environments use, decides on the stage's trigger: automatic (after an
// optional delay, then optional post-delay health checks, in an optional cron
// window) or manual (after an approval). A failed stage stops the
// rollout; a changed profileSpec (or stage list) restarts it from the first
// stage, the later stages keeping what they run until the rollout reaches them.
package clusterpromotion

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/promotion"
)

// Finalizer lets the controller delete (or release) the generated ClusterProfiles
// before the ClusterPromotion goes (Sveltos' name).
const Finalizer = "config.projectsveltos.io/clusterpromotion"

// Condition reasons and Event reasons of a ClusterPromotion.
const (
	// ReasonStageFailed: a cluster of the current stage failed; the rollout stops.
	ReasonStageFailed = "StageFailed"
	// ReasonWaitingForApproval: the stage is done; a manual trigger waits for approved: true.
	ReasonWaitingForApproval = "WaitingForApproval"
	// ReasonDelaying: the stage is done; the auto trigger's delay runs.
	ReasonDelaying = "Delaying"
	// ReasonWaitingForWindow: the stage is done; the promotionWindow is closed.
	ReasonWaitingForWindow = "WaitingForWindow"
	// ReasonPostDelayChecks: the delay passed; the post-delay health checks were
	// added to the stage's profile and must pass.
	ReasonPostDelayChecks = "PostDelayHealthChecks"
	// ReasonInvalidStage: a stage cannot be generated (a name clash, a name too long).
	ReasonInvalidStage = "InvalidStage"

	ReasonStageStarted     = "StageStarted"
	ReasonStageProvisioned = "StageProvisioned"
	ReasonPromoted         = "Promoted"
	ReasonRolloutRestarted = "RolloutRestarted"
	ReasonProfileDeleted   = "ProfileDeleted"
)

// Reconciler reconciles ClusterPromotions.
type Reconciler struct {
	// Kubernetes options
	Client client.Client
	// APIReader reads ClusterPromotions uncached (default: the manager's), so
	// that a reconcile never starts from a status older than the last one it wrote.
	APIReader client.Reader
	Recorder  events.EventRecorder

	// Concurrency is the number of ClusterPromotions reconciled at once (default 2).
	Concurrency int

	// Retry options
	// DeletePollInterval is how often a deleting promotion looks again at the
	// profiles it waits for (a safety net beside the watch; default 5s).
	DeletePollInterval time.Duration
}

// SetupWithManager registers the controller: ClusterPromotions (spec changes and
// annotations) and the ClusterProfiles they own (their status says when a stage is done).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Concurrency == 0 {
		r.Concurrency = 2
	}
	if r.DeletePollInterval == 0 {
		r.DeletePollInterval = 5 * time.Second
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("clusterpromotion").
		For(&configv1beta1.ClusterPromotion{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicate.AnnotationChangedPredicate{}, deletingPredicate()))).
		Owns(&configv1beta1.ClusterProfile{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency}).
		Complete(r)
}

// deletingPredicate lets through the update that marks a promotion for deletion.
func deletingPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}

// Reconcile moves one rollout as far as its stages and triggers allow. Status
// (stages, conditions) is computed in memory and written once, deferred.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	p := &configv1beta1.ClusterPromotion{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("clusterpromotion", p.Name)
	ctx = ctrl.LoggerInto(ctx, log)
	patcher := conditions.NewStatusPatcher(r.Client, p)
	defer func() {
		p.Status.ObservedGeneration = p.Generation
		retErr = errors.Join(retErr, patcher.Patch(ctx, p))
	}()

	if !p.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, p)
	}
	if controllerutil.AddFinalizer(p, Finalizer) {
		if err := r.Client.Update(ctx, p); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer to ClusterPromotion %s: %w", p.Name, err)
		}
	}
	result, err := r.rollout(ctx, p, patcher)
	if err != nil {
		conditions.MarkFailed(p, conditions.Failed, "%v", err)
	}
	return result, err
}

// rollout is the body of a reconcile: restart on a change, keep the profiles of
// the stages reached, observe the current stage, ask the gate, promote.
func (r *Reconciler) rollout(ctx context.Context, p *configv1beta1.ClusterPromotion, patcher *conditions.StatusPatcher) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	now := time.Now()
	for i := range p.Spec.Stages {
		if err := checkName(p.Name, &p.Spec.Stages[i]); err != nil {
			conditions.MarkStalled(p, ReasonInvalidStage, "%v", err)
			r.event(p, corev1.EventTypeWarning, ReasonInvalidStage, "%v", err)
			return ctrl.Result{}, nil
		}
	}
	if err := r.deleteStaleProfiles(ctx, p); err != nil {
		return ctrl.Result{}, err
	}

	// A new profileSpec or stage list restarts the rollout from the first stage.
	specHash, stagesH := profileSpecHash(p), stagesHash(p)
	st := &p.Status
	if string(st.ProfileSpecHash) != string(specHash) || string(st.StagesHash) != string(stagesH) || stageIndex(p, st.CurrentStageName) < 0 {
		restarted := len(st.ProfileSpecHash) > 0
		first := p.Spec.Stages[0].Name
		st.ProfileSpecHash, st.StagesHash = specHash, stagesH
		st.Stages = []configv1beta1.StageStatus{{Name: first, Phase: configv1beta1.StageProvisioning}}
		st.CurrentStageName = first
		st.LastPromotionTime = &metav1.Time{Time: now}
		if restarted {
			log.Info("rollout restarted", "stage", first, "revision", promotion.Short(revision(specHash)))
			r.event(p, corev1.EventTypeNormal, ReasonRolloutRestarted, "the content or the stages changed: rolling %s out from stage %s again", promotion.Short(revision(specHash)), first)
		} else {
			r.event(p, corev1.EventTypeNormal, ReasonStageStarted, "rolling %s out to stage %s", promotion.Short(revision(specHash)), first)
		}
	}

	// The profiles of every stage reached carry the current content; later
	// stages keep what an earlier rollout gave them.
	idx := stageIndex(p, st.CurrentStageName)
	for i := 0; i <= idx; i++ {
		err := r.ensureStageProfiles(ctx, p, &p.Spec.Stages[i], now)
		if errors.Is(err, errNotOwned) {
			conditions.MarkStalled(p, ReasonInvalidStage, "%v", err)
			r.event(p, corev1.EventTypeWarning, ReasonInvalidStage, "%v", err)
			return ctrl.Result{}, nil
		}
		if err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.consumeApprovals(ctx, p, idx); err != nil {
		return ctrl.Result{}, err
	}

	stage := &p.Spec.Stages[idx]
	state, err := r.observeStage(ctx, p, stage)
	if err != nil {
		return ctrl.Result{}, err
	}
	ss := stageStatus(p, stage.Name)
	r.recordState(p, ss, state, now)

	if state.Phase == configv1beta1.StageFailed {
		msg := fmt.Sprintf("stage %s failed, the rollout stops there: %s", stage.Name, state.Message)
		conditions.MarkFailed(p, ReasonStageFailed, "%s", truncate(msg))
		return ctrl.Result{}, nil
	}
	if idx == len(p.Spec.Stages)-1 {
		if state.Phase == configv1beta1.StageProvisioned {
			setDescription(ss, "rolled out: "+state.Message, now)
			conditions.MarkReady(p, "%s rolled out to every stage (%s: %s)", promotion.Short(revision(specHash)), stage.Name, state.Message)
			return ctrl.Result{}, nil
		}
		setDescription(ss, state.Message, now)
		conditions.MarkReconciling(p, conditions.Progressing, "stage %s: %s", stage.Name, state.Message)
		return ctrl.Result{}, nil
	}

	next := &p.Spec.Stages[idx+1]
	in, err := gateInput(p, stage, next, ss, state, revision(specHash), now)
	if err != nil {
		// Nothing is promoted past a trigger that cannot be read; what runs stays.
		msg := fmt.Sprintf("stage %s: %v", stage.Name, err)
		setDescription(ss, msg, now)
		conditions.MarkStalled(p, conditions.InvalidSpec, "%s", msg)
		r.event(p, corev1.EventTypeWarning, conditions.InvalidSpec, "%s", msg)
		return ctrl.Result{}, nil
	}
	decision := promotion.Decide(in)
	checks, pre := postDelayChecks(stage), preHealthCheckDeployment(stage)
	if (len(checks) > 0 || len(pre) > 0) && !ss.PostDelayHealthChecks && pastDelay(decision) {
		// The delay has passed: the preHealthCheckDeployment is deployed (its
		// own profile) and the post-delay health checks join the stage's
		// profile; the promotion waits until both are done. The status first,
		// so that no profile is written ahead of it.
		ss.PostDelayHealthChecks = true
		msg := fmt.Sprintf("%s waits: the post-delay verification of stage %s (%d object source(s), %d health check(s))", next.Name, stage.Name, len(pre), len(checks))
		setDescription(ss, msg, now)
		conditions.MarkReconciling(p, ReasonPostDelayChecks, "%s", msg)
		r.event(p, corev1.EventTypeNormal, ReasonPostDelayChecks, "stage %s: the delay has passed, deploying %d preHealthCheckDeployment source(s) and running %d post-delay health check(s)", stage.Name, len(pre), len(checks))
		return ctrl.Result{}, r.recordThenEnsureProfiles(ctx, patcher, p, stage, now)
	}
	if !decision.Open {
		setDescription(ss, decision.Message, now)
		conditions.MarkReconciling(p, reasonFor(decision.Blocked), "%s", truncate(decision.Message))
		return ctrl.Result{RequeueAfter: decision.RecheckAfter}, nil
	}

	// Promote: the status first (so that a crash cannot promote twice), then the
	// next stage's profile, then the approval consumed.
	ss.Phase = configv1beta1.StagePromoted
	setDescription(ss, "promoted to "+next.Name, now)
	st.Stages = append(st.Stages, configv1beta1.StageStatus{Name: next.Name, Phase: configv1beta1.StageProvisioning})
	st.CurrentStageName = next.Name
	st.LastPromotionTime = &metav1.Time{Time: now}
	conditions.MarkReconciling(p, conditions.Progressing, "%s", decision.Message)
	log.Info("promoted", "from", stage.Name, "to", next.Name, "revision", promotion.Short(revision(specHash)))
	r.event(p, corev1.EventTypeNormal, ReasonPromoted, "%s", decision.Message)
	if err := r.recordThenEnsureProfiles(ctx, patcher, p, next, now); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.consumeApprovals(ctx, p, idx+1); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// recordThenEnsureProfiles writes the promotion's status now, through the
// reconcile's status writer, and only then the profiles stage wants: no profile
// is written ahead of the status that records why (a crash cannot promote twice).
func (r *Reconciler) recordThenEnsureProfiles(ctx context.Context, patcher *conditions.StatusPatcher, p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage, now time.Time) error {
	if err := patcher.Flush(ctx); err != nil {
		return err
	}
	return r.ensureStageProfiles(ctx, p, stage, now)
}

// ensureStageProfiles writes the profiles a stage wants: its ClusterProfile,
// and its preHealthCheckDeployment's while that runs.
func (r *Reconciler) ensureStageProfiles(ctx context.Context, p *configv1beta1.ClusterPromotion, stage *configv1beta1.Stage, now time.Time) error {
	written, err := r.ensureProfile(ctx, p, stage)
	if err != nil {
		return err
	}
	if verificationWanted(p, stage) {
		w, err := r.ensureVerificationProfile(ctx, p, stage)
		if err != nil {
			return err
		}
		written = written || w
	}
	if written {
		stageStatus(p, stage.Name).LastUpdateReconciledTime = &metav1.Time{Time: now}
	}
	return nil
}

// gateInput maps a stage onto the gate: the profileSpec hash is the "commit"
// passed on, the stage being done is compliance, the auto trigger's delay is the
// bake time, a manual trigger's approved: true approves the current content.
func gateInput(p *configv1beta1.ClusterPromotion, stage, next *configv1beta1.Stage, ss *configv1beta1.StageStatus, state stageState, rev string, now time.Time) (promotion.Input, error) {
	in := promotion.Input{
		From:      stage.Name,
		To:        next.Name,
		Commit:    rev,
		Compliant: state.Phase == configv1beta1.StageProvisioned,
		Waiting:   "stage " + stage.Name + ": " + state.Message,
		Mode:      promotion.Automatic,
		Now:       now,
	}
	if ss.LastSuccessfulAppliedTime != nil {
		in.CompliantSince = ss.LastSuccessfulAppliedTime.Time
	}
	if t := stage.Trigger; t != nil {
		if t.Auto != nil && t.Auto.Delay != nil && !ss.PostDelayHealthChecks {
			// Once the post-delay checks run, the delay has passed.
			in.BakeTime = t.Auto.Delay.Duration
		}
		if t.Auto != nil && t.Auto.PromotionWindow != nil {
			w, err := scheduledWindow(t.Auto.PromotionWindow)
			if err != nil {
				return in, err
			}
			in.ScheduledWindows = []promotion.ScheduledWindow{w}
		}
		if t.Manual != nil {
			in.Mode = promotion.Manual
			in.ApprovalHint = fmt.Sprintf("tug promote approve clusterpromotion/%s, or set spec.stages[%s].trigger.manual.approved: true", p.Name, stage.Name)
			if t.Manual.Approved != nil && *t.Manual.Approved {
				in.Approved = rev
			}
		}
	}
	return in, nil
}

// pastDelay: the gate got past the stage being done and its bake time.
func pastDelay(d promotion.Decision) bool {
	return d.Open || d.Blocked == promotion.CheckApproval || d.Blocked == promotion.CheckWindow
}

func reasonFor(c promotion.Check) string {
	switch c {
	case promotion.CheckApproval:
		return ReasonWaitingForApproval
	case promotion.CheckBakeTime:
		return ReasonDelaying
	case promotion.CheckWindow:
		return ReasonWaitingForWindow
	}
	return conditions.Progressing
}

// consumeApprovals clears approved: true on the manual triggers of the stages
// before current (their promotion happened) when automaticReset is set, so that
// a later rollout needs a new approval. Level-based: a failed write is retried.
func (r *Reconciler) consumeApprovals(ctx context.Context, p *configv1beta1.ClusterPromotion, current int) error {
	updated := p.DeepCopy()
	changed := false
	for i := 0; i < current && i < len(updated.Spec.Stages); i++ {
		t := updated.Spec.Stages[i].Trigger
		if t != nil && t.Manual != nil && t.Manual.AutomaticReset && t.Manual.Approved != nil && *t.Manual.Approved {
			t.Manual.Approved = nil
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := r.Client.Update(ctx, updated); err != nil {
		return fmt.Errorf("resetting the approvals of ClusterPromotion %s: %w", p.Name, err)
	}
	// Keep the status computed in memory; take the new spec and metadata.
	p.ObjectMeta, p.Spec = updated.ObjectMeta, updated.Spec
	return nil
}

// recordState writes what was observed of the current stage into its status;
// times change only when the state does, so a resync writes nothing.
func (r *Reconciler) recordState(p *configv1beta1.ClusterPromotion, ss *configv1beta1.StageStatus, state stageState, now time.Time) {
	was := ss.Phase
	switch state.Phase {
	case configv1beta1.StageProvisioned:
		if ss.Phase != configv1beta1.StagePromoted {
			ss.Phase = configv1beta1.StageProvisioned
		}
		ss.FailureMessage = nil
		if ss.LastSuccessfulAppliedTime == nil {
			ss.LastSuccessfulAppliedTime = &metav1.Time{Time: now}
			r.event(p, corev1.EventTypeNormal, ReasonStageProvisioned, "stage %s provisioned: %s", ss.Name, state.Message)
		}
	case configv1beta1.StageFailed:
		ss.Phase = configv1beta1.StageFailed
		ss.LastSuccessfulAppliedTime = nil
		if ss.FailureMessage == nil || *ss.FailureMessage != state.Message {
			msg := truncate(state.Message)
			ss.FailureMessage = &msg
			r.event(p, corev1.EventTypeWarning, ReasonStageFailed, "stage %s failed, the rollout stops there: %s", ss.Name, msg)
		}
		setDescription(ss, "failed: "+state.Message, now)
	default:
		ss.Phase = configv1beta1.StageProvisioning
		ss.LastSuccessfulAppliedTime = nil
		ss.FailureMessage = nil
	}
	if was != ss.Phase {
		ss.LastStatusCheckTime = &metav1.Time{Time: now}
	}
}

// setDescription sets what a stage waits for; its check time moves with it.
func setDescription(ss *configv1beta1.StageStatus, msg string, now time.Time) {
	msg = truncate(msg)
	if ss.CurrentStatusDescription != nil && *ss.CurrentStatusDescription == msg {
		return
	}
	ss.CurrentStatusDescription = &msg
	ss.LastStatusCheckTime = &metav1.Time{Time: now}
}

// stageStatus returns the status entry of a stage reached, adding it when missing.
func stageStatus(p *configv1beta1.ClusterPromotion, name string) *configv1beta1.StageStatus {
	for i := range p.Status.Stages {
		if p.Status.Stages[i].Name == name {
			return &p.Status.Stages[i]
		}
	}
	p.Status.Stages = append(p.Status.Stages, configv1beta1.StageStatus{Name: name, Phase: configv1beta1.StageProvisioning})
	return &p.Status.Stages[len(p.Status.Stages)-1]
}

func stageIndex(p *configv1beta1.ClusterPromotion, name string) int {
	for i, s := range p.Spec.Stages {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// finalize deletes the generated profiles (or, with
// preserveClusterProfilesOnDelete, releases them) and then lets the promotion go.
func (r *Reconciler) finalize(ctx context.Context, p *configv1beta1.ClusterPromotion) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(p, Finalizer) {
		return ctrl.Result{}, nil
	}
	profiles, err := r.generatedProfiles(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	remaining := 0
	for i := range profiles {
		cp := &profiles[i]
		if p.Spec.PreserveClusterProfilesOnDelete {
			before := cp.DeepCopy()
			refs := cp.OwnerReferences[:0]
			for _, ref := range cp.OwnerReferences {
				if ref.UID != p.UID {
					refs = append(refs, ref)
				}
			}
			cp.OwnerReferences = refs
			if err := r.Client.Patch(ctx, cp, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, fmt.Errorf("releasing ClusterProfile %s of ClusterPromotion %s: %w", cp.Name, p.Name, err)
			}
			continue
		}
		remaining++
		if cp.DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, cp); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, fmt.Errorf("deleting ClusterProfile %s of ClusterPromotion %s: %w", cp.Name, p.Name, err)
			}
		}
	}
	if remaining > 0 {
		conditions.MarkReconciling(p, conditions.Deleting, "waiting for %d generated ClusterProfile(s) to withdraw and go", remaining)
		return ctrl.Result{RequeueAfter: r.DeletePollInterval}, nil
	}
	controllerutil.RemoveFinalizer(p, Finalizer)
	if err := r.Client.Update(ctx, p); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("removing the finalizer of ClusterPromotion %s: %w", p.Name, err)
	}
	return ctrl.Result{}, nil
}

func (r *Reconciler) event(p *configv1beta1.ClusterPromotion, kind, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(p, nil, kind, reason, "Rollout", format, args...)
	}
}

// maxMessage bounds messages written to status and Events.
const maxMessage = 2048

func truncate(s string) string {
	if len(s) > maxMessage {
		return s[:maxMessage-3] + "..."
	}
	return s
}
