package clusterhealth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	tugevents "github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// DefaultPendingInterval is how often a HealthCheck with held-back statuses
// (flapping) is evaluated again, even when nothing it watches changed.
const DefaultPendingInterval = 5 * time.Second

// HealthCheckReconciler evaluates each HealthCheck in the clusters that some
// ClusterHealthCheck's HealthCheck liveness check selects, and keeps one
// HealthCheckReport per (HealthCheck, cluster) in the cluster's namespace. The
// resources are watched from the manager through clusters.Watches (agentless):
// a change re-evaluates the HealthCheck.
type HealthCheckReconciler struct {
	// Kubernetes
	Client   client.Client
	Fleet    clusters.Fleet
	Registry *clusters.Registry
	Shard    clusters.Shard
	Recorder events.EventRecorder

	// Tuning
	Concurrency     int
	PendingInterval time.Duration

	watcher *clusters.Watcher
	queue   clusters.HolderQueue

	// lastCounted is when each report last counted an evaluation for the
	// flapping policy: passes closer together than PendingInterval (a burst of
	// watch events, our own writes) count once.
	countMu     sync.Mutex
	lastCounted map[types.NamespacedName]time.Time
}

// countsAsEvaluation reports whether a pass over report now counts as one more
// consecutive evaluation, and if so remembers it.
func (r *HealthCheckReconciler) countsAsEvaluation(report types.NamespacedName) bool {
	r.countMu.Lock()
	defer r.countMu.Unlock()
	if r.lastCounted == nil {
		r.lastCounted = map[types.NamespacedName]time.Time{}
	}
	now := time.Now()
	if last, ok := r.lastCounted[report]; ok && now.Sub(last) < r.PendingInterval {
		return false
	}
	r.lastCounted[report] = now
	return true
}

// SetupWithManager registers the controller.
func (r *HealthCheckReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Concurrency == 0 {
		r.Concurrency = 5
	}
	if r.PendingInterval == 0 {
		r.PendingInterval = DefaultPendingInterval
	}
	r.watcher = r.Registry.Watches().NewWatcher("healthcheck", r.queue.Handle)
	b := ctrl.NewControllerManagedBy(mgr).
		Named("healthcheck").
		For(&libv1beta1.HealthCheck{}).
		Watches(&libv1beta1.ClusterHealthCheck{}, handler.EnqueueRequestsFromMapFunc(r.referencedHealthChecks)).
		Watches(&libv1beta1.HealthCheckReport{}, handler.EnqueueRequestsFromMapFunc(reportHealthCheck)).
		WatchesRawSource(r.queue.Source()).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency})
	return r.Fleet.Watch(b, handler.EnqueueRequestsFromMapFunc(r.allHealthChecks)).Complete(r)
}

func (r *HealthCheckReconciler) allHealthChecks(ctx context.Context, _ client.Object) []reconcile.Request {
	return clusters.ListRequests(ctx, r.Client, &libv1beta1.HealthCheckList{}, nil)
}

func (r *HealthCheckReconciler) referencedHealthChecks(_ context.Context, o client.Object) []reconcile.Request {
	chc, ok := o.(*libv1beta1.ClusterHealthCheck)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, lc := range chc.Spec.LivenessChecks {
		if lc.Type == libv1beta1.LivenessTypeHealthCheck && lc.LivenessSourceRef != nil {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: lc.LivenessSourceRef.Name}})
		}
	}
	return out
}

// reportHealthCheck: a report changed or deleted by someone else is put right.
func reportHealthCheck(_ context.Context, o client.Object) []reconcile.Request {
	if name := o.GetLabels()[libv1beta1.HealthCheckNameLabel]; name != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
	}
	return nil
}

// Watcher is what the HealthChecks watch in managed clusters (for tests).
func (r *HealthCheckReconciler) Watcher() *clusters.Watcher { return r.watcher }

// HealthCheckReportName is the name of the report of a HealthCheck in a cluster:
// <clustertype>--<healthcheck>--<cluster>, the cluster type in lower case.
func HealthCheckReportName(healthCheck string, cluster libv1beta1.ClusterID) string {
	cluster = cluster.Normal()
	return libv1beta1.BoundedName(strings.ToLower(string(cluster.Type)) + "--" + healthCheck + "--" + cluster.Name)
}

// Reconcile evaluates one HealthCheck in every cluster that needs its report.
func (r *HealthCheckReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx).WithValues("healthCheck", req.Name)
	hc := &libv1beta1.HealthCheck{}
	if err := r.Client.Get(ctx, req.NamespacedName, hc); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading HealthCheck %s: %w", req.Name, err)
		}
		// Gone: stop watching for it and remove its reports.
		r.watcher.Release(req.Name, nil)
		return ctrl.Result{}, r.deleteReports(ctx, req.Name, nil)
	}
	if !hc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	targets, err := r.targetClusters(ctx, hc.Name)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("HealthCheck %s: %w", hc.Name, err)
	}

	eval, compileErr := compileEvaluation(hc)
	var matchers []*tugevents.Matcher
	if compileErr == nil {
		for i, rs := range hc.Spec.ResourceSelectors {
			m, err := tugevents.CompileSelector(rs)
			if err != nil {
				compileErr = fmt.Errorf("resourceSelectors[%d]: %w", i, err)
				break
			}
			matchers = append(matchers, m)
		}
	}
	if compileErr != nil {
		r.Recorder.Eventf(hc, nil, "Warning", "InvalidHealthCheck", "Evaluate", "HealthCheck %s: %v", hc.Name, compileErr)
	}

	keep := map[clusters.WatchKey]bool{}
	wanted := map[string]bool{}
	var errs []error
	requeue := false
	for _, cluster := range targets {
		wanted[HealthCheckReportName(hc.Name, cluster.ID)] = true
		var statuses []libv1beta1.ResourceStatus
		evalErr := compileErr
		synced := true
		if evalErr == nil {
			var objs []unstructured.Unstructured
			objs, synced, evalErr = r.selectedResources(ctx, hc.Name, cluster.ID, matchers, keep)
			if evalErr == nil && synced {
				statuses, evalErr = eval.evaluate(objs)
			}
		}
		if !synced && evalErr == nil {
			continue // the informer's first list is on its way; WatchSynced brings us back
		}
		if evalErr != nil {
			logger.V(1).Info("evaluation failed", "cluster", cluster.ID.String(), "error", evalErr.Error())
		}
		pending, err := r.writeReport(ctx, hc, cluster.ID, statuses, evalErr)
		if err != nil {
			errs = append(errs, err)
		}
		if pending {
			requeue = true
		}
	}
	r.watcher.Release(hc.Name, keep)
	if err := r.deleteReports(ctx, hc.Name, wanted); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, err
	}
	if requeue {
		return ctrl.Result{RequeueAfter: r.PendingInterval}, nil
	}
	return ctrl.Result{}, nil
}

// targetClusters are the clusters of this shard that a ClusterHealthCheck with
// a HealthCheck liveness check naming hcName selects.
func (r *HealthCheckReconciler) targetClusters(ctx context.Context, hcName string) ([]selection.Cluster, error) {
	chcs := &libv1beta1.ClusterHealthCheckList{}
	if err := r.Client.List(ctx, chcs); err != nil {
		return nil, fmt.Errorf("listing ClusterHealthChecks: %w", err)
	}
	var selectors []libv1beta1.Selector
	for i := range chcs.Items {
		chc := &chcs.Items[i]
		if !chc.DeletionTimestamp.IsZero() {
			continue
		}
		for _, lc := range chc.Spec.LivenessChecks {
			if lc.Type == libv1beta1.LivenessTypeHealthCheck && lc.LivenessSourceRef != nil && lc.LivenessSourceRef.Name == hcName {
				selectors = append(selectors, chc.Spec.ClusterSelector)
				break
			}
		}
	}
	if len(selectors) == 0 {
		return nil, nil
	}
	all, err := r.Fleet.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []selection.Cluster
	for _, c := range all {
		if !c.Eligible() || c.Paused || !r.Shard.Owns(c.Object) {
			continue
		}
		for _, sel := range selectors {
			if ok, err := selection.Matches(sel, c.Labels); err == nil && ok {
				out = append(out, c)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return selection.CompareIDs(out[i].ID, out[j].ID) < 0 })
	return out, nil
}

// selectedResources watches the selectors' kinds in the cluster (holder: the
// HealthCheck) and returns the objects they select; synced is false while a
// watch has not completed its first list.
func (r *HealthCheckReconciler) selectedResources(ctx context.Context, holder string, cluster libv1beta1.ClusterID,
	matchers []*tugevents.Matcher, keep map[clusters.WatchKey]bool) (objs []unstructured.Unstructured, synced bool, err error) {
	synced = true
	seen := map[string]bool{}
	for _, m := range matchers {
		key := clusters.WatchKey{Cluster: cluster, GVK: m.GVK()}
		keep[key] = true
		ok, err := r.watcher.Watch(ctx, key, holder)
		if err != nil {
			return nil, false, fmt.Errorf("watching %s in cluster %s: %w", describeGVK(m.GVK()), cluster, err)
		}
		if !ok {
			synced = false
			continue
		}
		items, err := r.watcher.List(key, m.Namespace())
		if err != nil {
			return nil, false, err
		}
		for i := range items {
			match, err := m.Matches(&items[i])
			if err != nil {
				return nil, false, err
			}
			k := resourceKey(objectRef(&items[i]))
			if match && !seen[k] {
				seen[k] = true
				objs = append(objs, items[i])
			}
		}
	}
	return objs, synced, nil
}

func describeGVK(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Version + "/" + gvk.Kind
	}
	return gvk.Group + "/" + gvk.Version + "/" + gvk.Kind
}

// writeReport creates or updates the report of hc in cluster. On an evaluation
// error the spec keeps the last good statuses and status.agentFailureMessage
// says what failed. It reports whether statuses are held back (flapping).
func (r *HealthCheckReconciler) writeReport(ctx context.Context, hc *libv1beta1.HealthCheck, cluster libv1beta1.ClusterID,
	statuses []libv1beta1.ResourceStatus, evalErr error) (pending bool, err error) {
	cluster = cluster.Normal()
	report := &libv1beta1.HealthCheckReport{}
	key := types.NamespacedName{Namespace: cluster.Namespace, Name: HealthCheckReportName(hc.Name, cluster)}
	exists := true
	if err := r.Client.Get(ctx, key, report); err != nil {
		if !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("reading HealthCheckReport %s: %w", key, err)
		}
		exists = false
		report = &libv1beta1.HealthCheckReport{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	}
	before := report.DeepCopy()
	if report.Labels == nil {
		report.Labels = map[string]string{}
	}
	report.Labels[libv1beta1.HealthCheckNameLabel] = hc.Name
	report.Labels[libv1beta1.HealthCheckReportClusterNameLabel] = cluster.Name
	report.Labels[libv1beta1.HealthCheckReportClusterTypeLabel] = strings.ToLower(string(cluster.Type))
	report.Spec.ClusterNamespace = cluster.Namespace
	report.Spec.ClusterName = cluster.Name
	report.Spec.ClusterType = cluster.Type
	report.Spec.HealthCheckName = hc.Name
	// Owned by the HealthCheck: a garbage collector removes the reports of a
	// HealthCheck deleted while no manager ran.
	if err := controllerutil.SetOwnerReference(hc, report, r.Client.Scheme()); err != nil {
		return false, fmt.Errorf("HealthCheckReport %s: %w", key, err)
	}

	status := libv1beta1.HealthCheckReportStatus{PendingResourceStatuses: report.Status.PendingResourceStatuses}
	processed := libv1beta1.ReportPhaseProcessed
	status.Phase = &processed
	if evalErr != nil {
		msg := evalErr.Error()
		status.AgentFailureMessage = &msg
		if before.Status.AgentFailureMessage == nil || *before.Status.AgentFailureMessage != msg {
			r.Recorder.Eventf(hc, nil, "Warning", "EvaluationFailed", "Evaluate", "HealthCheck %s in cluster %s: %s", hc.Name, cluster, msg)
		}
	} else {
		required := int32(1)
		if hc.Spec.Flapping != nil {
			required = max(hc.Spec.Flapping.ConsecutiveEvaluations, 2)
		}
		report.Spec.ResourceStatuses, status.PendingResourceStatuses = applyFlapping(required, r.countsAsEvaluation(key),
			statuses, report.Spec.ResourceStatuses, report.Status.PendingResourceStatuses)
	}
	pending = len(status.PendingResourceStatuses) > 0

	if !exists {
		if err := r.Client.Create(ctx, report); err != nil {
			return pending, fmt.Errorf("creating HealthCheckReport %s: %w", key, err)
		}
	} else if !equalReportObject(before, report) {
		if err := r.Client.Update(ctx, report); err != nil {
			return pending, fmt.Errorf("updating HealthCheckReport %s: %w", key, err)
		}
	}
	// The status as stored (a new report's is empty) against the one computed.
	statusBefore := report.DeepCopy()
	report.Status = status
	if err := conditions.PatchStatus(ctx, r.Client, statusBefore, report); err != nil {
		return pending, err
	}
	return pending, nil
}

func equalReportObject(a, b *libv1beta1.HealthCheckReport) bool {
	return fmt.Sprint(a.Labels) == fmt.Sprint(b.Labels) && fmt.Sprint(a.OwnerReferences) == fmt.Sprint(b.OwnerReferences) &&
		equalSpec(a.Spec, b.Spec)
}

func equalSpec(a, b libv1beta1.HealthCheckReportSpec) bool {
	if a.ClusterNamespace != b.ClusterNamespace || a.ClusterName != b.ClusterName || a.ClusterType != b.ClusterType ||
		a.HealthCheckName != b.HealthCheckName || len(a.ResourceStatuses) != len(b.ResourceStatuses) {
		return false
	}
	for i := range a.ResourceStatuses {
		x, y := a.ResourceStatuses[i], b.ResourceStatuses[i]
		if x.ObjectRef != y.ObjectRef || x.HealthStatus != y.HealthStatus || x.Message != y.Message || string(x.Resource) != string(y.Resource) {
			return false
		}
	}
	return true
}

// deleteReports deletes the reports of hcName whose names are not in keep (nil: all).
func (r *HealthCheckReconciler) deleteReports(ctx context.Context, hcName string, keep map[string]bool) error {
	list := &libv1beta1.HealthCheckReportList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{libv1beta1.HealthCheckNameLabel: hcName}); err != nil {
		return fmt.Errorf("listing the HealthCheckReports of %s: %w", hcName, err)
	}
	var errs []error
	for i := range list.Items {
		rep := &list.Items[i]
		if keep[rep.Name] {
			continue
		}
		// Only the reports this shard writes: those of clusters it owns.
		if !r.ownsReportCluster(ctx, rep) {
			continue
		}
		if err := r.Client.Delete(ctx, rep); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting HealthCheckReport %s/%s: %w", rep.Namespace, rep.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (r *HealthCheckReconciler) ownsReportCluster(ctx context.Context, rep *libv1beta1.HealthCheckReport) bool {
	id := libv1beta1.ClusterID{Type: rep.Spec.ClusterType, Namespace: rep.Spec.ClusterNamespace, Name: rep.Spec.ClusterName}.Normal()
	c, err := r.Fleet.Get(ctx, id)
	if err != nil {
		return apierrors.IsNotFound(err) // a deleted cluster's reports go
	}
	return r.Shard.Owns(c.Object)
}
