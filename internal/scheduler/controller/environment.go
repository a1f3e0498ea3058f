package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/metrics"
	"github.com/tugboat-dev/tugboat/internal/promotion"
)

// DefaultPollInterval is how often an Environment's member clusters are read
// again when nothing else brings it back (in-cluster Flux and Argo CD objects
// are polled, not watched).
const DefaultPollInterval = 30 * time.Second

// The Environment controller reads Environments and what their member clusters
// run, and writes their status and Events.
// +kubebuilder:rbac:groups=scheduler.kalypso.io,resources=environments,verbs=get;list;watch
// +kubebuilder:rbac:groups=scheduler.kalypso.io,resources=environments/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=sveltosclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clustersummaries,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// EnvironmentReconciler reports, for every Environment of the management cluster
// that a GitOpsRepo schedules, what its member clusters run and whether they
// comply with its control-plane commit, and promotes that commit to the next
// environment when the gate opens.
type EnvironmentReconciler struct {
	// Kubernetes options
	Client   client.Client
	Registry *clusters.Registry
	Recorder events.EventRecorder
	Metrics  *metrics.Metrics

	// Scheduler is the GitOpsRepo controller: its git settings (InsteadOf,
	// identity, forges) are used, and the next environment is enqueued there
	// after a promotion.
	Scheduler *Reconciler

	// PollInterval is how often member clusters are read again (default 30s).
	PollInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu       sync.Mutex
	promoted map[string]string // GitOps repo + revision → control-plane commit
}

// SetupWithManager registers the controller: Environments, and what changes
// their verdict — GitOpsRepos, generated ClusterSummaries, SveltosClusters.
func (r *EnvironmentReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("environment").
		For(&v1alpha1.Environment{}).
		Watches(&v1alpha1.Environment{}, handler.EnqueueRequestsFromMapFunc(r.previousEnvironments)).
		Watches(&v1alpha1.GitOpsRepo{}, handler.EnqueueRequestsFromMapFunc(r.environmentOfRepo)).
		Watches(&configv1beta1.ClusterSummary{}, handler.EnqueueRequestsFromMapFunc(r.environmentOfSummary)).
		Watches(&libv1beta1.SveltosCluster{}, handler.EnqueueRequestsFromMapFunc(r.environmentsOfCluster)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Complete(r)
}

// previousEnvironments: an approval lands on the next environment; the one
// promoting into it decides.
func (r *EnvironmentReconciler) previousEnvironments(ctx context.Context, obj client.Object) []reconcile.Request {
	return clusters.ListRequests(ctx, r.Client, &v1alpha1.EnvironmentList{}, func(o client.Object) bool {
		p := o.(*v1alpha1.Environment).Spec.Promotion
		return p != nil && p.Next == obj.GetName()
	}, client.InNamespace(obj.GetNamespace()))
}

func (r *EnvironmentReconciler) environmentOfRepo(ctx context.Context, obj client.Object) []reconcile.Request {
	repo, ok := obj.(*v1alpha1.GitOpsRepo)
	if !ok {
		return nil
	}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: repo.Namespace, Name: Environment(repo)}}
	// The previous environment waits for this one's render of its promotion.
	return append(r.previousEnvironments(ctx, &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Namespace: repo.Namespace, Name: req.Name}}), req)
}

func (r *EnvironmentReconciler) environmentOfSummary(ctx context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[configv1beta1.ClusterProfileNameLabel]
	if name == "" {
		return nil
	}
	p := &configv1beta1.ClusterProfile{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		return nil
	}
	ns, env := p.Labels[GitOpsRepoNamespaceLabel], p.Labels[v1alpha1.MemberEnvironmentLabel]
	if ns == "" || env == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: env}}}
}

func (r *EnvironmentReconciler) environmentsOfCluster(ctx context.Context, obj client.Object) []reconcile.Request {
	env := obj.GetLabels()[v1alpha1.MemberEnvironmentLabel]
	if env == "" {
		return nil
	}
	return clusters.ListRequests(ctx, r.Client, &v1alpha1.EnvironmentList{}, func(o client.Object) bool {
		return o.GetName() == env
	})
}

func (r *EnvironmentReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *EnvironmentReconciler) poll() time.Duration {
	if r.PollInterval > 0 {
		return r.PollInterval
	}
	return DefaultPollInterval
}

// cache keeps the GitOps mirrors this controller reads, apart from the
// scheduler's (no lock contention with a render).
func (r *EnvironmentReconciler) cache() *gitops.Cache {
	c := r.Scheduler.cache()
	c.Dir = filepath.Join(c.Dir, "compliance")
	return c
}

// scheduledBy finds the GitOpsRepo that schedules the environment.
func (r *EnvironmentReconciler) scheduledBy(ctx context.Context, ns, env string) (*v1alpha1.GitOpsRepo, error) {
	list := &v1alpha1.GitOpsRepoList{}
	if err := r.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing GitOpsRepos: %w", err)
	}
	for i := range list.Items {
		repo := &list.Items[i]
		if repo.Spec.ControlPlane != "" && Environment(repo) == env && repo.DeletionTimestamp.IsZero() {
			return repo, nil
		}
	}
	return nil, nil
}

// Reconcile reads the environment's member clusters, judges compliance with its
// control-plane commit and runs the promotion gate. Status is written once, when
// Reconcile returns; transitions are Events.
func (r *EnvironmentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	env := &v1alpha1.Environment{}
	if err := r.Client.Get(ctx, req.NamespacedName, env); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := conditions.NewStatusPatcher(r.Client, env)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, env)) }()
	env.Status.ObservedGeneration = env.Generation
	before := conditions.Get(env, v1alpha1.ConditionCompliant)
	var wasCompliant *metav1.Condition
	if before != nil {
		c := *before
		wasCompliant = &c
	}

	repo, err := r.scheduledBy(ctx, env.Namespace, env.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if repo == nil {
		msg := fmt.Sprintf("no GitOpsRepo with spec.controlPlane schedules environment %s in namespace %s", env.Name, env.Namespace)
		conditions.MarkFalse(env, v1alpha1.ConditionCompliant, ReasonNotScheduled, "%s", msg)
		conditions.MarkFailed(env, ReasonNotScheduled, "%s", msg)
		env.Status.Clusters, env.Status.Members, env.Status.Commit = nil, "", ""
		r.eventOnChange(env, wasCompliant)
		return ctrl.Result{}, nil
	}
	env.Status.Commit = repo.Status.ObservedMainCommit

	members, err := r.observeMembers(ctx, env.Name, repo)
	if err != nil {
		return ctrl.Result{}, err
	}
	clusters, resolveErr := r.resolveCommits(ctx, repo, members)
	verdict := Assess(env.Name, env.Status.Commit, clusters)
	if resolveErr != nil {
		verdict.Compliant, verdict.Reason = false, ReasonPending
		verdict.Message = fmt.Sprintf("%s; reading the GitOps repository: %v", verdict.Message, resolveErr)
		verdict.Waiting = verdict.Message
	}
	env.Status.Clusters, env.Status.Members = clusters, verdict.Members
	if verdict.Compliant {
		if env.Status.CompliantCommit != env.Status.Commit || env.Status.CompliantSince == nil {
			now := metav1.NewTime(r.now())
			env.Status.CompliantCommit, env.Status.CompliantSince = env.Status.Commit, &now
		}
		conditions.MarkTrue(env, v1alpha1.ConditionCompliant, verdict.Reason, "%s", truncate(verdict.Message))
		conditions.MarkReady(env, "%s", truncate(verdict.Message))
	} else {
		env.Status.CompliantCommit, env.Status.CompliantSince = "", nil
		conditions.MarkFalse(env, v1alpha1.ConditionCompliant, verdict.Reason, "%s", truncate(verdict.Message))
		conditions.MarkFailed(env, verdict.Reason, "%s", truncate(verdict.Message))
	}
	r.eventOnChange(env, wasCompliant)

	recheck := r.poll()
	if env.Spec.Promotion != nil {
		if after := r.promote(ctx, env, verdict); after > 0 && after < recheck {
			recheck = after
		}
	} else {
		env.Status.Promotion = nil
		conditions.Delete(env, v1alpha1.ConditionPromoted)
	}
	return ctrl.Result{RequeueAfter: recheck}, nil
}

// eventOnChange records an Event when the Compliant condition changes status or reason.
func (r *EnvironmentReconciler) eventOnChange(env *v1alpha1.Environment, was *metav1.Condition) {
	now := conditions.Get(env, v1alpha1.ConditionCompliant)
	if r.Recorder == nil || now == nil || (was != nil && was.Status == now.Status && was.Reason == now.Reason) {
		return
	}
	kind := corev1.EventTypeNormal
	if now.Status != metav1.ConditionTrue {
		kind = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(env, nil, kind, now.Reason, "Assess", "environment %s: %s", env.Name, now.Message)
}

// promote runs the gate for the environment's commit and, when it opens, writes
// the commit into the next environment's BaseRepo. It returns when time alone
// may change the decision (0: no such time).
func (r *EnvironmentReconciler) promote(ctx context.Context, env *v1alpha1.Environment, verdict Compliance) time.Duration {
	spec := env.Spec.Promotion
	st := env.Status.Promotion
	if st == nil || st.Next != spec.Next {
		st = &v1alpha1.PromotionStatus{Next: spec.Next}
	}
	env.Status.Promotion = st
	st.Commit = env.Status.Commit

	next := &v1alpha1.Environment{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: env.Namespace, Name: spec.Next}, next); err != nil {
		msg := fmt.Sprintf("%s waits: environment %s/%s: %v", spec.Next, env.Namespace, spec.Next, err)
		if apierrors.IsNotFound(err) {
			msg = fmt.Sprintf("%s waits: no Environment %s in namespace %s", spec.Next, spec.Next, env.Namespace)
		}
		st.Open, st.Message = false, msg
		conditions.MarkFalse(env, v1alpha1.ConditionPromoted, "NextEnvironmentMissing", "%s", msg)
		return 0
	}
	nextRepo, err := r.scheduledBy(ctx, env.Namespace, spec.Next)
	if err == nil && nextRepo == nil {
		err = fmt.Errorf("no GitOpsRepo with spec.controlPlane schedules it")
	}
	if err != nil {
		st.Open, st.Message = false, fmt.Sprintf("%s waits: %v", spec.Next, err)
		conditions.MarkFalse(env, v1alpha1.ConditionPromoted, ReasonNotScheduled, "%s", st.Message)
		return 0
	}

	in := promotion.Input{
		From: env.Name, To: spec.Next, Commit: env.Status.Commit,
		Compliant: verdict.Compliant, Waiting: verdict.Waiting,
		Mode:     promotion.Mode(spec.Mode),
		Approved: next.Annotations[v1alpha1.ApprovedCommitAnnotation],
		Done:     nextRepo.Status.ObservedMainCommit == env.Status.Commit || st.LastPromotedCommit == env.Status.Commit,
		Now:      r.now(),
	}
	if in.Mode == "" {
		in.Mode = promotion.Automatic
	}
	if env.Status.CompliantSince != nil {
		in.CompliantSince = env.Status.CompliantSince.Time
	}
	if spec.BakeTime != nil {
		in.BakeTime = spec.BakeTime.Duration
	}
	for _, w := range spec.Windows {
		win, err := window(w)
		if err != nil { // the CRD's patterns make this unreachable; say so anyway
			st.Open, st.Message = false, fmt.Sprintf("%s waits: spec.promotion.windows: %v", spec.Next, err)
			conditions.MarkFalse(env, v1alpha1.ConditionPromoted, "InvalidWindow", "%s", st.Message)
			return 0
		}
		in.Windows = append(in.Windows, win)
	}
	d := promotion.Decide(in)
	st.Open, st.Message = d.Open, d.Message
	switch {
	case d.Done:
		conditions.MarkTrue(env, v1alpha1.ConditionPromoted, "Promoted", "%s", d.Message)
		return 0
	case !d.Open:
		conditions.MarkFalse(env, v1alpha1.ConditionPromoted, "Waiting", "%s", d.Message)
		return d.RecheckAfter
	}

	outcome, err := r.writePromotion(ctx, env, next, nextRepo)
	r.Metrics.CountPromotion(env.Namespace, env.Name, spec.Next, err)
	if err != nil {
		st.Open = false
		st.Message = fmt.Sprintf("promoting %s from %s to %s failed: %v", promotion.Short(in.Commit), env.Name, spec.Next, err)
		conditions.MarkFalse(env, v1alpha1.ConditionPromoted, "PromotionFailed", "%s", truncate(st.Message))
		if r.Recorder != nil {
			r.Recorder.Eventf(env, nil, corev1.EventTypeWarning, "PromotionFailed", "Promote", "%s", truncate(st.Message))
		}
		log.FromContext(ctx).Info("promotion failed", "from", env.Name, "to", spec.Next, "error", err)
		return r.Scheduler.retry(nextRepo)
	}
	now := metav1.NewTime(r.now())
	st.LastPromotedCommit, st.LastPromotionTime = in.Commit, &now
	st.PullRequest = ""
	what := fmt.Sprintf("commit %s pushed to %s", promotion.Short(outcome.Commit), outcome.Branch)
	if outcome.PullRequest != nil {
		st.PullRequest = outcome.PullRequest.URL
		what = fmt.Sprintf("pull request #%d proposes it (%s)", outcome.PullRequest.Number, outcome.Branch)
	} else if outcome.Commit == "" {
		what = "its BaseRepo already pinned it"
	}
	st.Message = fmt.Sprintf("promoted %s from %s to %s: %s (%s)", promotion.Short(in.Commit), env.Name, spec.Next, what, outcome.File)
	conditions.MarkTrue(env, v1alpha1.ConditionPromoted, "Promoted", "%s", st.Message)
	if r.Recorder != nil {
		r.Recorder.Eventf(env, nil, corev1.EventTypeNormal, "Promoted", "Promote", "%s", st.Message)
		r.Recorder.Eventf(next, nil, corev1.EventTypeNormal, "PromotionReceived", "Promote", "%s", st.Message)
	}
	if outcome.PullRequest == nil && r.Scheduler.events != nil {
		_ = r.Scheduler.Enqueue(ctx, types.NamespacedName{Namespace: nextRepo.Namespace, Name: nextRepo.Name})
	}
	return 0
}

func window(w v1alpha1.PromotionWindow) (promotion.Window, error) {
	var out promotion.Window
	var err error
	if out.Start, err = promotion.ParseClock(w.Start); err != nil {
		return out, err
	}
	if out.End, err = promotion.ParseClock(w.End); err != nil {
		return out, err
	}
	for _, d := range w.Days {
		day, err := promotion.ParseWeekday(string(d))
		if err != nil {
			return out, err
		}
		out.Days = append(out.Days, day)
	}
	return out, nil
}

// writePromotion writes the environment's commit into the next environment's
// BaseRepo on its control-plane branch: pushed, or proposed as a pull request
// through the forge of the next environment's GitOpsRepo.
func (r *EnvironmentReconciler) writePromotion(ctx context.Context, env, next *v1alpha1.Environment, nextRepo *v1alpha1.GitOpsRepo) (*gitops.PromotionOutcome, error) {
	s := r.Scheduler
	s.mu.Lock() // the control-plane mirror and work folders are the scheduler's
	defer s.mu.Unlock()
	branch, path := next.Spec.ControlPlane.Branch, next.Spec.ControlPlane.Path
	if branch == "" {
		branch = next.Name
	}
	if path == "" {
		path = "."
	}
	workDir := s.WorkDir
	if workDir == "" {
		workDir = filepath.Join(os.TempDir(), "tugboat-scheduler", "work")
	}
	pub := &gitops.Publisher{Cache: s.cache(), WorkDir: workDir, Identity: s.Identity, Direct: !env.Spec.Promotion.PullRequest}
	if env.Spec.Promotion.PullRequest {
		target := nextRepo.DeepCopy()
		target.Spec.Repo = nextRepo.Spec.ControlPlane
		forge, err := s.forge(ctx, target)
		if err != nil {
			return nil, fmt.Errorf("pull requests for the control plane %s: %w", nextRepo.Spec.ControlPlane, err)
		}
		pub.Forge = forge
	}
	return pub.Promote(ctx, gitops.Promotion{
		From: env.Name, To: next.Name, Commit: env.Status.Commit,
		ControlPlane: v1alpha1.RepositoryReference{Repo: nextRepo.Spec.ControlPlane, Branch: branch, Path: path},
	})
}
