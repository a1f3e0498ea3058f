package clusters

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/version"
	k8sversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/metrics"
)

// kubeconfigSecretIndex indexes SveltosClusters by the name of the Secret they
// are reached with: their kubeconfig Secret, or the CA Secret of workloadIdentity.
const kubeconfigSecretIndex = "tugboat.kubeconfigSecret"

// Reconciler probes every SveltosCluster of its shard and reports readiness,
// version and connection state in its status and labels.
type Reconciler struct {
	// Kubernetes options
	Client   client.Client
	Registry *Registry
	Recorder events.EventRecorder

	// Probe options
	// ProbeInterval is how often a healthy cluster is probed again (default 60s).
	ProbeInterval time.Duration
	// RetryInterval is how soon a failing cluster is probed again (default 10s).
	RetryInterval time.Duration

	// Sharding options
	Shard Shard

	// Concurrency is the number of clusters probed at once (default 10).
	Concurrency int

	// Check options
	// CompileSelector compiles the resourceSelectors of readinessChecks and
	// livenessChecks (the manager passes events.CompileSelector's); without it
	// a check with selectors fails, saying so.
	CompileSelector CompileResourceSelector

	// Clock tells the time of active windows and token renewals (default: the
	// real clock; tests step a fake one).
	Clock clock.PassiveClock

	// Metrics, when set, receives the connection state of every cluster probed.
	Metrics *metrics.Metrics
}

// SetupWithManager registers the controller: it reacts to SveltosClusters of its
// shard and to changes of their kubeconfig Secrets.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.ProbeInterval == 0 {
		r.ProbeInterval = time.Minute
	}
	if r.RetryInterval == 0 {
		r.RetryInterval = 10 * time.Second
	}
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &libv1beta1.SveltosCluster{}, kubeconfigSecretIndex,
		func(o client.Object) []string {
			sc := o.(*libv1beta1.SveltosCluster)
			if sc.Spec.PullMode {
				return nil // reached through its agent, no Secret
			}
			if w := sc.Spec.WorkloadIdentity; w != nil {
				if w.CASecretRef != nil {
					return []string{w.CASecretRef.Name}
				}
				return nil
			}
			return []string{sc.KubeconfigSecretName()}
		}); err != nil {
		return fmt.Errorf("indexing SveltosClusters by kubeconfig Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("sveltoscluster").
		For(&libv1beta1.SveltosCluster{}, builder.WithPredicates(
			predicate.NewPredicateFuncs(r.Shard.Owns),
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}),
		)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.clustersUsingSecret)).
		// A failed watch on a cluster's connection: probe it now.
		WatchesRawSource(source.Channel(r.Registry.Troubles(), &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency}).
		Complete(r)
}

// clustersUsingSecret maps a Secret to the SveltosClusters whose kubeconfig (or
// workloadIdentity CA) it holds.
func (r *Reconciler) clustersUsingSecret(ctx context.Context, o client.Object) []reconcile.Request {
	list := &libv1beta1.SveltosClusterList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{kubeconfigSecretIndex: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "listing SveltosClusters for Secret", "secret", client.ObjectKeyFromObject(o))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		if r.Shard.Owns(&list.Items[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=sveltosclusters,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=sveltosclusters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile probes one cluster. The status is computed in memory and written
// once, when Reconcile returns (nothing when the probe changed nothing); the
// version label is patched beside it, only when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	logger := log.FromContext(ctx)
	sc := &libv1beta1.SveltosCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, sc); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reading SveltosCluster %s: %w", req.NamespacedName, err)
	}
	if !sc.DeletionTimestamp.IsZero() || !r.Shard.Owns(sc) {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	before := sc.DeepCopy()
	id := libv1beta1.SveltosClusterID(req.Namespace, req.Name)
	var probeErr error
	patcher := conditions.NewStatusPatcher(r.Client, sc)
	defer func() {
		err := patcher.Patch(ctx, sc)
		if err == nil {
			r.reportState(before, sc)
			if probeErr == nil && before.Status.ConnectionFailures > 0 {
				// Back after failed probes, and recorded so: its watches list
				// again and what waits for it runs now, not when a retry
				// backoff ends. (Unrecorded, the next probe tells it.)
				logger.Info("cluster answers again", "failures", before.Status.ConnectionFailures)
				r.Registry.Returned(id)
			}
		}
		retErr = errors.Join(retErr, err)
	}()

	now := r.Clock.Now()
	var info *k8sversion.Info
	info, probeErr = r.Registry.Probe(ctx, id)
	recordProbe(sc, info, probeErr)
	if sc.Spec.PullMode && probeErr == nil {
		// The probe went through the agent: it reported.
		sc.Status.AgentLastReportTime = &metav1.Time{Time: now}
	}
	next := r.ProbeInterval
	if probeErr != nil {
		next = r.RetryInterval
		logger.Info("cluster probe failed", "failures", sc.Status.ConnectionFailures, "error", probeErr.Error())
	}
	// Problems of the spec's own (a check that does not compile, a window that
	// does not parse, a renewal that fails) join the failure message.
	var problems []specProblem
	if probeErr == nil {
		if p := r.runChecks(ctx, sc, before.Status.Ready); p != nil {
			problems = append(problems, *p)
			next = r.RetryInterval
		}
		wait, err := r.renewToken(ctx, sc, now)
		switch {
		case err != nil:
			problems = append(problems, specProblem{reason: "TokenRenewalFailed", message: err.Error()})
			next = r.RetryInterval
		case wait > 0:
			next = min(next, wait)
		}
	}
	wait, err := recordActiveWindow(sc, now)
	switch {
	case err != nil:
		problems = append(problems, specProblem{reason: "ActiveWindowInvalid", message: err.Error()})
	case wait > 0:
		next = min(next, wait+100*time.Millisecond)
	}
	r.recordProblems(before, sc, problems)
	if err := r.labelVersion(ctx, before, sc); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

// specProblem is something wrong with what the spec asks, with the reason of
// the Warning Event reporting it.
type specProblem struct {
	reason, message string
	// quiet problems are reported in the status only (a readiness check that
	// does not pass yet is no error).
	quiet bool
}

// recordProblems adds the problems to status.failureMessage and reports each
// one that the status did not say already in a Warning Event.
func (r *Reconciler) recordProblems(before, sc *libv1beta1.SveltosCluster, problems []specProblem) {
	if len(problems) == 0 {
		return
	}
	var msgs []string
	if sc.Status.FailureMessage != nil {
		msgs = append(msgs, *sc.Status.FailureMessage)
	}
	old := ""
	if before.Status.FailureMessage != nil {
		old = *before.Status.FailureMessage
	}
	for _, p := range problems {
		if !slices.Contains(msgs, p.message) {
			msgs = append(msgs, p.message)
		}
		if !p.quiet && !strings.Contains(old, p.message) && r.Recorder != nil {
			r.Recorder.Eventf(sc, nil, corev1.EventTypeWarning, p.reason, "Reconcile", "%s", p.message)
		}
	}
	msg := strings.Join(msgs, "; ")
	sc.Status.FailureMessage = &msg
}

// runChecks evaluates, after a successful probe, the readiness checks of a
// cluster that was not ready (it stays not ready until they all pass) and the
// liveness checks of one that was (its connection is Down while one fails).
// It returns what failed, nil when nothing did.
func (r *Reconciler) runChecks(ctx context.Context, sc *libv1beta1.SveltosCluster, wasReady bool) *specProblem {
	field, checks := "readinessChecks", sc.Spec.ReadinessChecks
	if wasReady {
		field, checks = "livenessChecks", sc.Spec.LivenessChecks
	}
	if len(checks) == 0 {
		return nil
	}
	fail := func(p specProblem) *specProblem {
		if wasReady {
			sc.Status.ConnectionStatus = libv1beta1.ConnectionDown
		} else {
			sc.Status.Ready = false
		}
		return &p
	}
	conn, err := r.Registry.Get(ctx, libv1beta1.SveltosClusterID(sc.Namespace, sc.Name))
	if err != nil {
		return fail(specProblem{reason: "ClusterCheckFailed", message: fmt.Sprintf("spec.%s: %v", field, err), quiet: true})
	}
	failure, err := evaluateChecks(ctx, conn, r.CompileSelector, field, checks)
	switch {
	case err != nil:
		return fail(specProblem{reason: "ClusterCheckFailed", message: err.Error(), quiet: true})
	case failure == nil:
		return nil
	case failure.Bad:
		return fail(specProblem{reason: "ClusterCheckInvalid", message: failure.Message})
	}
	return fail(specProblem{reason: "ClusterCheckFailed", message: failure.Message, quiet: true})
}

func (r *Reconciler) forget(key types.NamespacedName) {
	cluster := libv1beta1.SveltosClusterID(key.Namespace, key.Name)
	r.Registry.Forget(cluster)
	r.Metrics.ForgetCluster(cluster.Namespace, cluster.Name)
}

// DefaultConsecutiveFailureThreshold is how many probes in a row must fail
// before a cluster without spec.consecutiveFailureThreshold is reported Down.
const DefaultConsecutiveFailureThreshold = 3

// recordProbe records a probe's outcome in the cluster's status (and its version
// label): a success makes it ready and healthy; failures are counted and make it
// Down at the threshold, or at once for a broken registration, which will not
// heal by itself. Below the threshold the cluster keeps its last state.
func recordProbe(sc *libv1beta1.SveltosCluster, info *k8sversion.Info, probeErr error) {
	st := &sc.Status
	if probeErr == nil {
		st.Ready = true
		st.ConnectionStatus = libv1beta1.ConnectionHealthy
		st.Version = info.GitVersion
		st.FailureMessage = nil
		st.ConnectionFailures = 0
		if v, err := version.ParseGeneric(info.GitVersion); err == nil {
			if sc.Labels == nil {
				sc.Labels = map[string]string{}
			}
			sc.Labels[libv1beta1.K8sVersionLabel] = fmt.Sprintf("v%d.%d.%d", v.Major(), v.Minor(), v.Patch())
		}
		return
	}
	msg := probeErr.Error()
	st.FailureMessage = &msg
	st.ConnectionFailures++
	threshold := sc.Spec.ConsecutiveFailureThreshold
	if threshold < 1 {
		threshold = DefaultConsecutiveFailureThreshold
	}
	if IsConfigError(probeErr) || st.ConnectionFailures >= threshold {
		st.Ready = false
		st.ConnectionStatus = libv1beta1.ConnectionDown
	}
}

// labelVersion patches the version label when the probe changed it. The patch
// works on a copy: it overwrites its object with what the server returns.
func (r *Reconciler) labelVersion(ctx context.Context, before, after *libv1beta1.SveltosCluster) error {
	if before.Labels[libv1beta1.K8sVersionLabel] == after.Labels[libv1beta1.K8sVersionLabel] {
		return nil
	}
	if err := r.Client.Patch(ctx, after.DeepCopy(), client.MergeFrom(before)); err != nil {
		return fmt.Errorf("labelling SveltosCluster %s/%s: %w", after.Namespace, after.Name, err)
	}
	return nil
}

// reportState publishes the state written: the connection state metric (Healthy
// or Down; a cluster still below its failure threshold keeps its last state) and
// an event when the cluster became ready or went down.
func (r *Reconciler) reportState(before, after *libv1beta1.SveltosCluster) {
	r.Metrics.SetClusterState(after.Namespace, after.Name, string(after.Status.ConnectionStatus))
	r.recordTransition(before, after)
}

// recordTransition emits an event when the cluster becomes ready or goes down.
func (r *Reconciler) recordTransition(before, after *libv1beta1.SveltosCluster) {
	if r.Recorder == nil {
		return
	}
	switch {
	case after.Status.Ready && !before.Status.Ready:
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "ClusterReady", "Probe", "cluster reachable, version %s", after.Status.Version)
	case after.Status.ConnectionStatus == libv1beta1.ConnectionDown && before.Status.ConnectionStatus != libv1beta1.ConnectionDown:
		msg := ""
		if after.Status.FailureMessage != nil {
			msg = *after.Status.FailureMessage
		}
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, "ClusterDown", "Probe", "%s", strings.TrimSpace(msg))
	}
}
