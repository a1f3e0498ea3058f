// Package controller is the manager's scheduler controller: for every GitOpsRepo
// of the management cluster that names a control-plane repository, it does what
// `tug schedule push` does whenever the control plane changes. The control plane
// is polled every spec.interval (an unchanged repository costs a fetch, no render
// and no push) and an HTTP webhook, POST /hooks/scheduler/<namespace>/<name>,
// has it looked at at once. The outcome is reported in the GitOpsRepo's status:
// conditions Ready, Rendered and Pushed, the control-plane commits rendered, and
// the deployment targets that failed (which do not hold the others back).
package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// Defaults.
const (
	DefaultInterval = 5 * time.Minute
	// DefaultRetryInterval bounds the wait before a failed attempt is retried.
	DefaultRetryInterval = time.Minute
	// DefaultTokenKey is the Secret key of a GitHub token when the reference names none.
	DefaultTokenKey = "token"
)

// Condition reasons of the Rendered and Pushed conditions; Ready takes the
// failure's reason (or conditions.Succeeded).
const (
	ReasonRendered        = "Rendered"
	ReasonTargetErrors    = "TargetErrors"
	ReasonLoadFailed      = "ControlPlaneLoadFailed"
	ReasonForgeConfig     = "ForgeConfigError"
	ReasonPushed          = "Pushed"
	ReasonProposed        = "Proposed"
	ReasonUpToDate        = "UpToDate"
	ReasonAlreadyProposed = "AlreadyProposed"
	ReasonPushFailed      = "PushFailed"
	ReasonNotPushed       = "NotPushed"
)

// The scheduler controller reads GitOpsRepos (and the GitHub token Secrets they
// name) and writes their status.
// +kubebuilder:rbac:groups=scheduler.kalypso.io,resources=gitopsrepos,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=scheduler.kalypso.io,resources=gitopsrepos/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconciler schedules the environments GitOpsRepos name.
type Reconciler struct {
	Client client.Client
	// APIReader reads the GitHub token Secrets (uncached: no informer on every Secret).
	APIReader client.Reader

	// CacheDir keeps the mirrors of the repositories read (default: a folder in
	// the temporary directory); WorkDir the temporary GitOps checkouts.
	CacheDir string
	WorkDir  string
	// InsteadOf rewrites repository URLs (longest prefix), like git's url.<base>.insteadOf.
	InsteadOf map[string]string
	Identity  gitops.Identity

	// DefaultInterval applies to GitOpsRepos without spec.interval (default 5m);
	// RetryInterval bounds the wait after a failure (default 1m).
	DefaultInterval time.Duration
	RetryInterval   time.Duration
	// Recorder, when set, receives an Event when delivery fails or recovers.
	Recorder events.EventRecorder
	// SourceInterval is the interval of the generated Flux GitRepositories
	// (default 1m); after each push of its own the controller asks for a fetch at once.
	SourceInterval time.Duration

	// WebhookAddress, when set (and not "0"), serves POST /hooks/scheduler/<namespace>/<name>.
	WebhookAddress string
	// WebhookSecret, when set, is required to have signed each hook's body as
	// GitHub does (X-Hub-Signature-256).
	WebhookSecret []byte

	// mu serializes the git work: mirrors are shared between GitOpsRepos.
	mu      sync.Mutex
	renders atomic.Int64
	events  chan event.GenericEvent
	webhook *webhookServer
}

// SetupWithManager registers the controller and, with a WebhookAddress, the
// webhook server (listening from now on, so that its address is known).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	r.events = make(chan event.GenericEvent, 64)
	if r.WebhookAddress != "" && r.WebhookAddress != "0" {
		ws, err := newWebhookServer(r.WebhookAddress, r.WebhookSecret, r.Client, r.events, mgr.Elected())
		if err != nil {
			return err
		}
		if err := mgr.Add(ws); err != nil {
			return err
		}
		r.webhook = ws
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("scheduler").
		For(&v1alpha1.GitOpsRepo{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Channel(r.events, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		Complete(r)
}

// WebhookURL is the base URL of the webhook server ("" without one), e.g.
// http://127.0.0.1:9443; hooks are under /hooks/scheduler/.
func (r *Reconciler) WebhookURL() string {
	if r.webhook == nil {
		return ""
	}
	return "http://" + r.webhook.addr()
}

// Enqueue has the GitOpsRepo looked at now (what the webhook does).
func (r *Reconciler) Enqueue(ctx context.Context, key types.NamespacedName) error {
	obj := &v1alpha1.GitOpsRepo{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	select {
	case r.events <- event.GenericEvent{Object: obj}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Reconciler) cache() *gitops.Cache {
	dir := r.CacheDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "tugboat-scheduler", "git")
	}
	return &gitops.Cache{Dir: dir, InsteadOf: r.InsteadOf}
}

func (r *Reconciler) interval(repo *v1alpha1.GitOpsRepo) time.Duration {
	if repo.Spec.Interval != nil && repo.Spec.Interval.Duration > 0 {
		return repo.Spec.Interval.Duration
	}
	if r.DefaultInterval > 0 {
		return r.DefaultInterval
	}
	return DefaultInterval
}

func (r *Reconciler) retry(repo *v1alpha1.GitOpsRepo) time.Duration {
	d := r.RetryInterval
	if d <= 0 {
		d = DefaultRetryInterval
	}
	return min(d, r.interval(repo))
}

// Environment is the environment a GitOpsRepo schedules.
func Environment(repo *v1alpha1.GitOpsRepo) string {
	if repo.Spec.Environment != "" {
		return repo.Spec.Environment
	}
	return repo.Name
}

// Reconcile loads the control plane; when its commits differ from the ones last
// rendered (or the spec changed, or the last push failed) it schedules the
// environment and publishes the tree. The status is computed in memory on every
// path and written once, when Reconcile returns.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	repo := &v1alpha1.GitOpsRepo{}
	if err := r.Client.Get(ctx, req.NamespacedName, repo); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !repo.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, repo)
	}
	if repo.Spec.ControlPlane == "" {
		return ctrl.Result{}, nil // a GitOpsRepo as written in a control-plane repository: not a job
	}
	if err := r.addFinalizer(ctx, repo); err != nil {
		return ctrl.Result{}, err
	}
	patcher := conditions.NewStatusPatcher(r.Client, repo)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, repo)) }()

	r.mu.Lock()
	defer r.mu.Unlock()
	logger := log.FromContext(ctx)
	env := Environment(repo)
	cache := r.cache()
	cp, err := gitops.LoadControlPlane(ctx, cache, repo.Spec.ControlPlane, env)
	if err != nil {
		markLoadFailed(repo, env, err)
		logger.Info("loading the control plane failed", "environment", env, "error", err)
		return ctrl.Result{RequeueAfter: r.retry(repo)}, nil
	}
	if unchanged(repo, cp) {
		if err := r.deliver(ctx, repo, env, cp, false); err != nil {
			logger.Info("delivery failed", "environment", env, "error", err)
			return ctrl.Result{RequeueAfter: r.retry(repo)}, nil
		}
		return ctrl.Result{RequeueAfter: r.interval(repo)}, nil
	}

	r.renders.Add(1)
	res := scheduler.Schedule(ctx, env, cp.Manifests, gitops.RepoSource{Cache: cache})
	markRendered(repo, env, cp, res)
	outcome, err := r.publish(ctx, repo, env, res)
	markPublished(repo, env, cp, res, outcome, err)
	r.reportErrors(ctx, repo, env, res, outcome, err) // forge.go: failed targets to the forge (Reported)
	// The branch is delivered as it is, whether or not this push succeeded.
	pushed := err == nil && outcome.Commit != "" && repo.Spec.Direct
	if derr := r.deliver(ctx, repo, env, cp, pushed); derr != nil {
		logger.Info("delivery failed", "environment", env, "error", derr)
		err = errors.Join(err, derr)
	}
	if err != nil {
		logger.Info("publishing failed", "environment", env, "error", err)
		return ctrl.Result{RequeueAfter: r.retry(repo)}, nil
	}
	return ctrl.Result{RequeueAfter: r.interval(repo)}, nil
}

// markLoadFailed records a control plane that could not be loaded: nothing was
// rendered or pushed.
func markLoadFailed(repo *v1alpha1.GitOpsRepo, env string, err error) {
	msg := fmt.Sprintf("environment %s: %v", env, err)
	repo.Status.ObservedGeneration = repo.Generation
	mark(repo, v1alpha1.ConditionRendered, metav1.ConditionFalse, ReasonLoadFailed, msg)
	mark(repo, v1alpha1.ConditionPushed, metav1.ConditionFalse, ReasonNotPushed, "the control plane could not be loaded")
	conditions.MarkFailed(repo, ReasonLoadFailed, "%s", truncate(msg))
}

// markRendered records what was rendered from cp: the commits, the failed
// targets and the Rendered condition.
func markRendered(repo *v1alpha1.GitOpsRepo, env string, cp *gitops.ControlPlane, res *scheduler.Result) {
	st := &repo.Status
	st.ObservedGeneration = repo.Generation
	st.ObservedCommit, st.ObservedMainCommit = cp.EnvCommit, cp.MainCommit
	st.TargetErrors = targetErrors(res)
	if len(res.Errors) == 0 {
		mark(repo, v1alpha1.ConditionRendered, metav1.ConditionTrue, ReasonRendered,
			fmt.Sprintf("environment %s: %d assignment(s), %d file(s)", env, len(res.Assignments), len(res.Files)))
	} else {
		mark(repo, v1alpha1.ConditionRendered, metav1.ConditionFalse, ReasonTargetErrors, errorsMessage(res))
	}
}

// markPublished records the outcome of publishing (or the error that stopped
// it): the Pushed and Ready conditions, the commit pushed and the pull request.
func markPublished(repo *v1alpha1.GitOpsRepo, env string, cp *gitops.ControlPlane, res *scheduler.Result, outcome *gitops.Outcome, err error) {
	st := &repo.Status
	if err != nil {
		reason := ReasonPushFailed
		var fe *forgeConfigError
		if errors.As(err, &fe) {
			reason = ReasonForgeConfig
		}
		msg := fmt.Sprintf("environment %s: %v", env, err)
		mark(repo, v1alpha1.ConditionPushed, metav1.ConditionFalse, reason, msg)
		conditions.MarkFailed(repo, reason, "%s", truncate(msg))
		return
	}
	switch {
	case len(outcome.Changes) == 0:
		mark(repo, v1alpha1.ConditionPushed, metav1.ConditionTrue, ReasonUpToDate,
			fmt.Sprintf("branch %s already holds the rendered tree", repo.Spec.Branch))
	case outcome.AlreadyProposed:
		mark(repo, v1alpha1.ConditionPushed, metav1.ConditionTrue, ReasonAlreadyProposed,
			fmt.Sprintf("the rendered tree is already proposed on %s", outcome.Branch))
	case outcome.PullRequest != nil:
		st.LastPushedCommit = outcome.Commit
		mark(repo, v1alpha1.ConditionPushed, metav1.ConditionTrue, ReasonProposed,
			fmt.Sprintf("commit %s on %s proposed as pull request #%d (%d file(s) changed)", outcome.Commit, outcome.Branch, outcome.PullRequest.Number, len(outcome.Changes)))
	default:
		st.LastPushedCommit = outcome.Commit
		mark(repo, v1alpha1.ConditionPushed, metav1.ConditionTrue, ReasonPushed,
			fmt.Sprintf("commit %s pushed to %s (%d file(s) changed)", outcome.Commit, outcome.Branch, len(outcome.Changes)))
	}
	if outcome.PullRequest != nil {
		st.PullRequest = outcome.PullRequest.URL
	} else if repo.Spec.Direct {
		st.PullRequest = ""
	}
	if len(res.Errors) == 0 {
		conditions.MarkReady(repo, "environment %s rendered from %s and published", env, describeCommits(cp))
	} else {
		conditions.MarkFailed(repo, ReasonTargetErrors,
			"%d deployment target(s) failed (see Rendered and status.targetErrors); the others were published", len(res.Errors))
	}
}

// unchanged: the commits, the spec and a successful publish are what the status
// already records. Folders (no commits) are always rendered again.
func unchanged(repo *v1alpha1.GitOpsRepo, cp *gitops.ControlPlane) bool {
	st := repo.Status
	return cp.EnvCommit != "" &&
		st.ObservedGeneration == repo.Generation &&
		st.ObservedCommit == cp.EnvCommit &&
		st.ObservedMainCommit == cp.MainCommit &&
		conditions.IsTrue(repo, v1alpha1.ConditionPushed) &&
		!reportPending(repo)
}

func describeCommits(cp *gitops.ControlPlane) string {
	if cp.EnvCommit == "" {
		return "the control-plane folders"
	}
	return fmt.Sprintf("commit %s (main %s)", short(cp.EnvCommit), short(cp.MainCommit))
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// forgeConfigError is a GitOpsRepo whose pull request settings cannot be used.
type forgeConfigError struct{ err error }

func (e *forgeConfigError) Error() string { return e.err.Error() }
func (e *forgeConfigError) Unwrap() error { return e.err }

func (r *Reconciler) publish(ctx context.Context, repo *v1alpha1.GitOpsRepo, env string, res *scheduler.Result) (*gitops.Outcome, error) {
	cache := r.cache()
	pub := &gitops.Publisher{Cache: cache, WorkDir: r.WorkDir, Identity: r.Identity, Direct: repo.Spec.Direct}
	if !repo.Spec.Direct {
		forge, err := r.forge(ctx, repo)
		if err != nil {
			return nil, &forgeConfigError{err}
		}
		pub.Forge = forge
	}
	return pub.Publish(ctx, env, repo.Spec.RepositoryReference, res)
}

func targetErrors(res *scheduler.Result) []v1alpha1.TargetError {
	if len(res.Errors) == 0 {
		return nil
	}
	out := make([]v1alpha1.TargetError, 0, len(res.Errors))
	for _, e := range res.Errors {
		env := e.Environment
		if env == "" {
			env = res.Environment
		}
		out = append(out, v1alpha1.TargetError{
			Environment:      env,
			ClusterType:      e.ClusterType,
			DeploymentTarget: e.DeploymentTarget,
			Object:           e.Object,
			Message:          e.Error(),
		})
	}
	return out
}

// maxMessage keeps condition messages well inside the API's 32768 characters.
const maxMessage = 16 << 10

func errorsMessage(res *scheduler.Result) string {
	msgs := make([]string, len(res.Errors))
	for i, e := range res.Errors {
		msgs[i] = e.Error()
	}
	return truncate(fmt.Sprintf("%d deployment target(s) failed, the others were rendered: %s", len(msgs), strings.Join(msgs, "; ")))
}

// mark sets one of the GitOpsRepo's own conditions (Rendered, Pushed).
func mark(repo *v1alpha1.GitOpsRepo, conditionType string, status metav1.ConditionStatus, reason, msg string) {
	conditions.Set(repo, conditionType, status, reason, "%s", truncate(msg))
}

func truncate(msg string) string {
	if len(msg) > maxMessage {
		return msg[:maxMessage] + "…"
	}
	return msg
}
