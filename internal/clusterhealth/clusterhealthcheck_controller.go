package clusterhealth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/notify"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// ClusterHealthCheckReconciler evaluates the liveness checks of each
// ClusterHealthCheck in every cluster it selects and sends its notifications
// once per change of state. The state last notified is kept as a hash in
// status.clusterCondition[].clusterInfo.hash, so resyncs and manager restarts
// do not notify again; a notification that could not be delivered is marked
// FailedToDeliver and retried (with backoff) until it is.
type ClusterHealthCheckReconciler struct {
	// Kubernetes
	Client client.Client
	// APIReader reads the ClusterHealthCheck itself, uncached: the hash of the
	// state last notified must be the one last written, never an older copy
	// from the cache (which would notify twice).
	APIReader client.Reader
	Fleet     clusters.Fleet
	Shard     clusters.Shard
	Recorder  events.EventRecorder

	// Notifications
	Sender *notify.Sender

	Concurrency int
}

// SetupWithManager registers the controller.
func (r *ClusterHealthCheckReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Concurrency == 0 {
		r.Concurrency = 5
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("clusterhealthcheck").
		For(&libv1beta1.ClusterHealthCheck{}).
		Watches(&configv1beta1.ClusterSummary{}, handler.EnqueueRequestsFromMapFunc(r.allChecks)).
		Watches(&libv1beta1.HealthCheckReport{}, handler.EnqueueRequestsFromMapFunc(r.checksUsingReport)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.checksUsingSecret)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency})
	return r.Fleet.Watch(b, handler.EnqueueRequestsFromMapFunc(r.allChecks)).Complete(r)
}

func (r *ClusterHealthCheckReconciler) allChecks(ctx context.Context, _ client.Object) []reconcile.Request {
	return clusters.ListRequests(ctx, r.Client, &libv1beta1.ClusterHealthCheckList{}, nil)
}

func (r *ClusterHealthCheckReconciler) checksUsingReport(ctx context.Context, o client.Object) []reconcile.Request {
	hcName := o.GetLabels()[libv1beta1.HealthCheckNameLabel]
	if hcName == "" {
		return nil
	}
	return clusters.ListRequests(ctx, r.Client, &libv1beta1.ClusterHealthCheckList{}, func(c client.Object) bool {
		return slices.ContainsFunc(c.(*libv1beta1.ClusterHealthCheck).Spec.LivenessChecks, func(lc libv1beta1.LivenessCheck) bool {
			return lc.Type == libv1beta1.LivenessTypeHealthCheck && lc.LivenessSourceRef != nil && lc.LivenessSourceRef.Name == hcName
		})
	})
}

// checksUsingSecret: a notification Secret created or fixed retries at once
// what could not be delivered.
func (r *ClusterHealthCheckReconciler) checksUsingSecret(ctx context.Context, o client.Object) []reconcile.Request {
	return clusters.ListRequests(ctx, r.Client, &libv1beta1.ClusterHealthCheckList{}, func(c client.Object) bool {
		return slices.ContainsFunc(c.(*libv1beta1.ClusterHealthCheck).Spec.Notifications, func(n libv1beta1.Notification) bool {
			return n.NotificationRef != nil && n.NotificationRef.Namespace == o.GetNamespace() && n.NotificationRef.Name == o.GetName()
		})
	})
}

// Reconcile evaluates one ClusterHealthCheck and notifies what changed.
func (r *ClusterHealthCheckReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	logger := log.FromContext(ctx).WithValues("clusterHealthCheck", req.Name)
	chc := &libv1beta1.ClusterHealthCheck{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, chc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !chc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	patcher := conditions.NewStatusPatcher(r.Client, chc)
	defer func() { err = errors.Join(err, patcher.Patch(ctx, chc)) }()

	matching, err := r.matchingClusters(ctx, chc)
	if err != nil {
		r.Recorder.Eventf(chc, nil, corev1.EventTypeWarning, "InvalidClusterSelector", "Select", "ClusterHealthCheck %s: %v", chc.Name, err)
		return ctrl.Result{}, fmt.Errorf("ClusterHealthCheck %s: %w", chc.Name, err)
	}
	previous := map[libv1beta1.ClusterID]libv1beta1.ClusterCondition{}
	for _, cc := range chc.Status.ClusterConditions {
		if id, ok := libv1beta1.ClusterIDFromRef(cc.ClusterInfo.Cluster, ""); ok {
			previous[id.Normal()] = cc
		}
	}

	refs := make([]corev1.ObjectReference, 0, len(matching))
	ccs := make([]libv1beta1.ClusterCondition, 0, len(matching))
	var failures []error
	for _, cluster := range matching {
		id := cluster.ID.Normal()
		refs = append(refs, id.Ref())
		prev, known := previous[id]
		if !r.Shard.Owns(cluster.Object) {
			// Another manager's shard evaluates this cluster; keep what it wrote.
			if known {
				ccs = append(ccs, prev)
			}
			continue
		}
		results, err := evaluateLiveness(ctx, r.Client, chc, id)
		if err != nil {
			failures = append(failures, err)
			if known {
				ccs = append(ccs, prev)
			}
			continue
		}
		cc, undelivered := r.notifyCluster(ctx, chc, id, results, prev)
		for _, err := range undelivered {
			logger.Info("notification not delivered", "cluster", id.String(), "error", err.Error())
		}
		failures = append(failures, undelivered...)
		ccs = append(ccs, cc)
	}
	chc.Status.MatchingClusterRefs = refs
	chc.Status.ClusterConditions = ccs
	if err := errors.Join(failures...); err != nil {
		if onlyMisconfigured(failures) {
			// Only a change to a Secret or the spec helps (both are watched);
			// try again now and then all the same.
			logger.Info("notifications misconfigured", "error", err.Error())
			return ctrl.Result{RequeueAfter: MisconfiguredRetryInterval}, nil
		}
		// Returning the error retries with backoff: failed notifications go again.
		return ctrl.Result{}, fmt.Errorf("ClusterHealthCheck %s: %w", chc.Name, err)
	}
	return ctrl.Result{}, nil
}

// MisconfiguredRetryInterval is how often notifications that failed for want
// of a Secret or a key are tried again without any change to them.
const MisconfiguredRetryInterval = 5 * time.Minute

func onlyMisconfigured(errs []error) bool {
	for _, err := range errs {
		if !errors.Is(err, notify.ErrMisconfigured) {
			return false
		}
	}
	return true
}

func (r *ClusterHealthCheckReconciler) matchingClusters(ctx context.Context, chc *libv1beta1.ClusterHealthCheck) ([]selection.Cluster, error) {
	if _, err := selection.Compile(chc.Spec.ClusterSelector); err != nil {
		return nil, fmt.Errorf("clusterSelector: %w", err)
	}
	all, err := r.Fleet.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []selection.Cluster
	for _, c := range all {
		if c.Deleting {
			continue
		}
		if ok, err := selection.Matches(chc.Spec.ClusterSelector, c.Labels); err != nil {
			return nil, fmt.Errorf("clusterSelector: %w", err)
		} else if ok {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return selection.CompareIDs(out[i].ID, out[j].ID) < 0 })
	return out, nil
}

// notifyCluster builds the cluster's condition entry and sends the
// notifications it owes: all of them when the state differs from the one last
// notified, otherwise those whose last delivery failed and those never sent
// (added to the spec since).
func (r *ClusterHealthCheckReconciler) notifyCluster(ctx context.Context, chc *libv1beta1.ClusterHealthCheck,
	cluster libv1beta1.ClusterID, results []livenessResult, prev libv1beta1.ClusterCondition) (libv1beta1.ClusterCondition, []error) {
	cc := libv1beta1.ClusterCondition{
		ClusterInfo: libv1beta1.ClusterInfo{Cluster: cluster.Ref(), Hash: stateHash(results), Status: libv1beta1.FeatureStatusProvisioned},
		Conditions:  conditionsFor(results, prev.Conditions),
	}
	if undecided(results) {
		// A check that cannot tell yet (a HealthCheck that has not reported on
		// the cluster) is not a state to notify: keep what was notified.
		cc.ClusterInfo = prev.ClusterInfo
		cc.ClusterInfo.Cluster = cluster.Ref()
		cc.NotificationSummaries = prev.NotificationSummaries
		return cc, nil
	}
	changed := !bytes.Equal(prev.ClusterInfo.Hash, cc.ClusterInfo.Hash)
	prevSummary := map[string]libv1beta1.NotificationSummary{}
	for _, s := range prev.NotificationSummaries {
		prevSummary[s.Name] = s
	}
	msg := composeMessage(cluster, results)
	var failures []error
	for _, n := range chc.Spec.Notifications {
		last, delivered := prevSummary[n.Name]
		if !changed && delivered && last.Status == libv1beta1.NotificationStatusDelivered {
			cc.NotificationSummaries = append(cc.NotificationSummaries, last)
			continue
		}
		summary := libv1beta1.NotificationSummary{Name: n.Name, Status: libv1beta1.NotificationStatusDelivered}
		if err := r.Sender.Send(ctx, chc, n, msg); err != nil {
			text := err.Error()
			summary.Status, summary.FailureMessage = libv1beta1.NotificationStatusFailedToDeliver, &text
			// One Event per new failure, not one per retry.
			if !delivered || last.FailureMessage == nil || *last.FailureMessage != text {
				r.Recorder.Eventf(chc, nil, corev1.EventTypeWarning, "NotificationFailed", "Notify",
					"cluster %s: %s", cluster, text)
			}
			failures = append(failures, fmt.Errorf("cluster %s: %w", cluster, err))
		}
		cc.NotificationSummaries = append(cc.NotificationSummaries, summary)
	}
	if len(failures) > 0 {
		cc.ClusterInfo.Status = libv1beta1.FeatureStatusFailed
		text := errors.Join(failures...).Error()
		cc.ClusterInfo.FailureMessage = &text
	}
	return cc, failures
}

// conditionsFor turns results into conditions, keeping the transition time of
// a condition whose status did not change.
func conditionsFor(results []livenessResult, prev []libv1beta1.Condition) []libv1beta1.Condition {
	prevByName := map[string]libv1beta1.Condition{}
	for _, c := range prev {
		prevByName[c.Name] = c
	}
	now := metav1.Now()
	out := make([]libv1beta1.Condition, 0, len(results))
	for _, res := range results {
		c := libv1beta1.Condition{
			Name: res.check.Name, Type: string(res.check.Type), Status: res.status,
			Reason: res.reason, Message: res.message, LastTransitionTime: now,
		}
		if res.status == corev1.ConditionFalse {
			c.Severity = libv1beta1.ConditionSeverityWarning
		}
		if p, ok := prevByName[c.Name]; ok && p.Status == c.Status {
			c.LastTransitionTime = p.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

// composeMessage is the notification of a cluster's state.
func composeMessage(cluster libv1beta1.ClusterID, results []livenessResult) notify.Message {
	ok := passing(results)
	title := fmt.Sprintf("Cluster %s:%s/%s: ", cluster.Type, cluster.Namespace, cluster.Name)
	var lines []string
	if ok {
		title += "all liveness checks are passing"
	} else {
		title += "liveness checks failing"
	}
	for _, res := range results {
		if res.status == corev1.ConditionTrue {
			lines = append(lines, fmt.Sprintf("Liveness check %q passing: %s", res.check.Name, res.message))
			continue
		}
		lines = append(lines, fmt.Sprintf("Liveness check %q failing", res.check.Name), res.message)
	}
	// Sveltos records these Events with reason ClusterHealthCheck; the type
	// (Normal, Warning) says passing or failing.
	return notify.Message{Title: title, Text: strings.Join(lines, "\n"), Healthy: ok, Reason: "ClusterHealthCheck"}
}
