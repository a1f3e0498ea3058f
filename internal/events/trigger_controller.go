// Package events is Tugboat's event engine: EventSources say which resources of
// a cluster make up an event, EventTriggers turn the events of their source
// clusters into ClusterProfiles (and instantiated ConfigMaps/Secrets) that the
// profile engine deploys. Source clusters are watched directly through the
// cluster registry's watch facility (clusters.Watches); no agent runs in them.
package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	kevents "k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// Finalizer keeps an EventTrigger until what it generated is deleted.
const Finalizer = "eventtrigger.lib.projectsveltos.io/finalizer"

// pendingRequeue is how soon a trigger is looked at again while a source
// cluster is not ready or its informers have not synced (informer sync and
// cluster readiness enqueue it too; this is the safety net).
const pendingRequeue = 10 * time.Second

// TriggerReconciler reconciles EventTriggers: it evaluates their EventSource in
// every matching source cluster, keeps the EventReports, generates the
// ClusterProfiles and instantiated ConfigMaps/Secrets, and deletes what no
// longer has an origin.
type TriggerReconciler struct {
	// Kubernetes options
	// Client reads and writes the management cluster.
	Client client.Client
	// Registry reaches source clusters (the management cluster included).
	Registry *clusters.Registry

	// Namespace is where instantiated ConfigMaps/Secrets go (default projectsveltos).
	Namespace string

	// Concurrency is the number of EventTriggers reconciled at once.
	Concurrency int

	// Shard selects the source clusters this manager watches.
	Shard clusters.Shard

	// Fleet lists the source and destination clusters (SveltosClusters and
	// Cluster API Clusters); by default the manager's (clusters.FleetFor).
	Fleet clusters.Fleet

	// APIReader reads the CloudEvents records uncached (default: the manager's
	// API reader), so that a reconcile sees the event just recorded.
	APIReader client.Reader
	// Recorder records Kubernetes Events about received CloudEvents (optional).
	Recorder kevents.EventRecorder

	// CloudEvents options
	// MessagingRecheck is how often the sveltos-nats Secret of a source
	// cluster with CloudEvent triggers is read again (default 30s).
	MessagingRecheck time.Duration

	// messaging holds the NATS connections of the source clusters; locks
	// serialise the reconciles of a trigger with CloudEvents received for it.
	messaging *messaging
	locks     keyedMutex

	// watcher holds, per trigger, the kinds of its EventSource watched in its
	// source clusters; queue turns their events into requests.
	watcher *clusters.Watcher
	queue   clusters.HolderQueue
}

// SetupWithManager registers the controller: EventTriggers, the SveltosClusters
// and EventSources they depend on, the ConfigMaps/Secrets they reference, the
// objects they generated, and the events of the source clusters' informers.
func (r *TriggerReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Namespace == "" {
		r.Namespace = libv1beta1.DefaultSystemNamespace
	}
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	r.watcher = r.Registry.Watches().NewWatcher("eventtrigger", r.queue.Handle)
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	r.startMessaging(mgr.GetLogger().WithName("cloudevents"))
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		r.messaging.stop()
		return nil
	})); err != nil {
		return err
	}
	if err := (&sourceReconciler{client: r.Client, recorder: r.Recorder}).setupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the EventSource controller: %w", err)
	}
	if r.Fleet.Reader == nil {
		r.Fleet = clusters.FleetFor(mgr)
	}
	generated := handler.EnqueueRequestsFromMapFunc(byOriginLabel)
	b := ctrl.NewControllerManagedBy(mgr).
		Named("eventtrigger").
		For(&libv1beta1.EventTrigger{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&libv1beta1.EventSource{}, handler.EnqueueRequestsFromMapFunc(r.allTriggers)).
		Watches(&libv1beta1.ClusterSet{}, handler.EnqueueRequestsFromMapFunc(r.triggersOfClusterSet)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.referencing(libv1beta1.ConfigMapReferencedKind))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.referencing(libv1beta1.SecretReferencedKind))).
		Watches(&configv1beta1.ClusterProfile{}, generated).
		WatchesRawSource(r.queue.Source()).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency})
	return r.Fleet.Watch(b, handler.EnqueueRequestsFromMapFunc(r.allTriggers), clusterChanged()).Complete(r)
}

// Watcher is what the triggers watch in their source clusters (for tests).
func (r *TriggerReconciler) Watcher() *clusters.Watcher { return r.watcher }

func (r *TriggerReconciler) allTriggers(ctx context.Context, _ client.Object) []reconcile.Request {
	return clusters.ListRequests(ctx, r.Client, &libv1beta1.EventTriggerList{}, nil)
}

// triggersOfClusterSet maps a ClusterSet to the triggers naming it in clusterSetRefs.
func (r *TriggerReconciler) triggersOfClusterSet(ctx context.Context, o client.Object) []reconcile.Request {
	return clusters.ListRequests(ctx, r.Client, &libv1beta1.EventTriggerList{}, func(t client.Object) bool {
		return slices.Contains(t.(*libv1beta1.EventTrigger).Spec.ClusterSetRefs, o.GetName())
	})
}

// setClusters are the clusters the ClusterSets named in clusterSetRefs
// select (status.selectedClusterRefs); an absent ClusterSet adds none.
func (r *TriggerReconciler) setClusters(ctx context.Context, trigger *libv1beta1.EventTrigger) (map[libv1beta1.ClusterID]bool, error) {
	out := map[libv1beta1.ClusterID]bool{}
	for _, name := range trigger.Spec.ClusterSetRefs {
		set := &libv1beta1.ClusterSet{}
		if err := r.Client.Get(ctx, types.NamespacedName{Name: name}, set); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("EventTrigger %s clusterSetRefs: reading ClusterSet %s: %w", trigger.Name, name, err)
		}
		for _, ref := range set.Status.SelectedClusterRefs {
			if id, ok := libv1beta1.ClusterIDFromRef(ref, ""); ok {
				out[id.Normal()] = true
			}
		}
	}
	return out, nil
}

// referencing maps a ConfigMap/Secret to the triggers that may reference it
// (by name, or through a templated name) and, for one they generated, to its trigger.
func (r *TriggerReconciler) referencing(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		if reqs := byOriginLabel(ctx, o); len(reqs) > 0 {
			return reqs
		}
		return clusters.ListRequests(ctx, r.Client, &libv1beta1.EventTriggerList{}, func(t client.Object) bool {
			return mayReference(&t.(*libv1beta1.EventTrigger).Spec, kind, o.GetName())
		})
	}
}

func mayReference(spec *libv1beta1.EventTriggerSpec, kind, name string) bool {
	match := func(k, n string) bool { return k == kind && (n == name || strings.Contains(n, "{{")) }
	anyValue := func(vs []libv1beta1.ValueFrom) bool {
		return slices.ContainsFunc(vs, func(v libv1beta1.ValueFrom) bool { return match(v.Kind, v.Name) })
	}
	for _, p := range spec.PolicyRefs {
		if match(p.Kind, p.Name) {
			return true
		}
	}
	for _, h := range spec.HelmCharts {
		if anyValue(h.ValuesFrom) {
			return true
		}
	}
	for _, k := range spec.KustomizationRefs {
		if match(k.Kind, k.Name) || anyValue(k.ValuesFrom) {
			return true
		}
	}
	if anyValue(spec.PatchesFrom) {
		return true
	}
	gens := spec.ConfigMapGenerator
	if kind == libv1beta1.SecretReferencedKind {
		gens = spec.SecretGenerator
	}
	for _, g := range gens {
		if g.Name == name || strings.Contains(g.Name, "{{") {
			return true
		}
	}
	return false
}

// clusterChanged passes the cluster changes that matter to triggers: labels
// (source selection, .Cluster), readiness, spec and annotations; not the
// periodic probe results.
func clusterChanged() predicate.Predicate {
	return clusters.ViewChanged(func(o, n selection.Cluster) bool {
		return !equality.Semantic.DeepEqual(o.Labels, n.Labels) || o.Eligible() != n.Eligible() ||
			o.Object.GetGeneration() != n.Object.GetGeneration() ||
			!equality.Semantic.DeepEqual(o.Object.GetAnnotations(), n.Object.GetAnnotations())
	})
}

func byOriginLabel(_ context.Context, o client.Object) []reconcile.Request {
	if name, ok := o.GetLabels()[libv1beta1.EventTriggerNameLabel]; ok {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
	}
	if name, ok := o.GetLabels()[libv1beta1.EventTriggerCloudEventsLabel]; ok {
		// A CloudEvents record, written by another replica's HTTP endpoint.
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
	}
	return nil
}

// clusterOutcome is what processing one source cluster produced.
type clusterOutcome struct {
	info libv1beta1.ClusterInfo
	// preserve keeps the cluster's generated objects: its state is not confirmed
	// (not ready, informers not synced, render error keeping the last good state).
	preserve bool
	pending  bool
	// report is the EventReport to keep current, written after the generated
	// objects (it is a record, not on the path from event to deployment).
	report *pendingReport
	// messaging: the EventSource selects CloudEvents; the trigger holds the
	// cluster's NATS connections.
	messaging bool
}

type pendingReport struct {
	source  *libv1beta1.EventSource
	cluster libv1beta1.ClusterID
	matches []unstructured.Unstructured
}

// Reconcile brings what one EventTrigger generated in line with the events of
// its source clusters. The status is computed in memory on every path and
// written once, on the way out.
func (r *TriggerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	logger := log.FromContext(ctx).WithValues("eventTrigger", req.Name)
	ctx = log.IntoContext(ctx, logger)
	// CloudEvents received for the trigger reconcile it too (Receive).
	defer r.locks.lock(req.Name)()

	trigger := &libv1beta1.EventTrigger{}
	if err := r.Client.Get(ctx, req.NamespacedName, trigger); err != nil {
		if apierrors.IsNotFound(err) {
			r.watcher.Release(req.Name, nil)
			if r.messaging != nil {
				r.messaging.release(req.Name, nil)
			}
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reading EventTrigger %s: %w", req.Name, err)
	}
	patcher := conditions.NewStatusPatcher(r.Client, trigger)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, trigger)) }()

	if !trigger.DeletionTimestamp.IsZero() {
		conditions.MarkReconciling(trigger, conditions.Deleting, "deleting what the trigger generated")
		if err := r.finalize(ctx, trigger); err != nil {
			conditions.MarkFailed(trigger, conditions.Deleting, "%s", err.Error())
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, nil
	}
	if !controllerutil.ContainsFinalizer(trigger, Finalizer) {
		controllerutil.AddFinalizer(trigger, Finalizer)
		if err := r.Client.Update(ctx, trigger); err != nil {
			err = fmt.Errorf("adding finalizer to EventTrigger %s: %w", trigger.Name, err)
			conditions.MarkFailed(trigger, conditions.Failed, "%s", err.Error())
			return ctrl.Result{}, err
		}
	}
	result, err := r.reconcileClusters(ctx, trigger)
	if err != nil {
		conditions.MarkFailed(trigger, conditions.Failed, "%s", err.Error())
	}
	return result, err
}

// reconcileClusters processes every source cluster of the trigger, applies what
// they generate, deletes what lost its origin and records the outcome in the
// trigger's status (in memory). An error is a failure of the trigger as a whole.
func (r *TriggerReconciler) reconcileClusters(ctx context.Context, trigger *libv1beta1.EventTrigger) (ctrl.Result, error) {
	sourceSel, destSel, err := compileClusterSelectors(&trigger.Spec)
	if err != nil {
		// Nothing can be matched until the spec changes; what was generated stays.
		trigger.Status.MatchingClusterRefs, trigger.Status.DestinationMatchingClusterRefs, trigger.Status.ClusterInfo = nil, nil, nil
		conditions.MarkStalled(trigger, conditions.InvalidSpec, "%s", err.Error())
		return ctrl.Result{}, nil
	}
	fleet, err := r.Fleet.List(ctx, "")
	if err != nil {
		return ctrl.Result{}, err
	}
	inSets, err := r.setClusters(ctx, trigger)
	if err != nil {
		return ctrl.Result{}, err
	}
	slices.SortFunc(fleet, func(a, b selection.Cluster) int { return selection.CompareIDs(a.ID, b.ID) })

	previous := trigger.Status.ClusterInfo
	status := &trigger.Status
	status.MatchingClusterRefs, status.DestinationMatchingClusterRefs, status.ClusterInfo = nil, nil, nil
	want := newDesired()
	preserve := map[libv1beta1.ClusterID]bool{}
	keep := map[clusters.WatchKey]bool{}
	// sources are the source clusters (their CloudEvents records stay); held
	// those whose NATS connections the trigger keeps.
	sources := map[libv1beta1.ClusterID]bool{}
	held := map[libv1beta1.ClusterID]bool{}
	pending := false
	var reports []*pendingReport
	for _, c := range fleet {
		if c.Eligible() && destSel.Matches(labels.Set(c.Labels)) {
			status.DestinationMatchingClusterRefs = append(status.DestinationMatchingClusterRefs, c.Ref())
		}
		if c.Deleting || !(sourceSel.Matches(labels.Set(c.Labels)) || inSets[c.ID.Normal()]) {
			continue // its generated objects go: the cluster is no longer a source
		}
		status.MatchingClusterRefs = append(status.MatchingClusterRefs, c.Ref())
		sources[c.ID.Normal()] = true
		if !r.Shard.Owns(c.Object) {
			// Another manager's shard watches this cluster: keep what it generated
			// and what it reported.
			preserve[c.ID.Normal()] = true
			for _, info := range previous {
				if id, ok := libv1beta1.ClusterIDFromRef(info.Cluster, ""); ok && id == c.ID.Normal() {
					status.ClusterInfo = append(status.ClusterInfo, info)
				}
			}
			continue
		}
		out, got := r.processCluster(ctx, trigger, c, keep)
		status.ClusterInfo = append(status.ClusterInfo, out.info)
		if out.preserve {
			preserve[c.ID.Normal()] = true
		} else {
			want.merge(got)
		}
		pending = pending || out.pending
		if out.messaging {
			held[c.ID.Normal()] = true
		}
		if out.report != nil {
			reports = append(reports, out.report)
		}
	}
	setReadiness(trigger)

	if err := r.apply(ctx, trigger, want); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.collectGarbage(ctx, trigger.Name, want, preserve); err != nil {
		return ctrl.Result{}, err
	}
	r.watcher.Release(trigger.Name, keep)
	if r.messaging != nil {
		r.messaging.release(trigger.Name, held)
	}
	if err := r.deleteRecords(ctx, trigger.Name, sources); err != nil {
		return ctrl.Result{}, err
	}
	var reportErrs []error
	for _, rep := range reports {
		reportErrs = append(reportErrs, r.writeReport(ctx, rep.source, rep.cluster, rep.matches))
	}
	if err := errors.Join(reportErrs...); err != nil {
		return ctrl.Result{}, err
	}
	if pending {
		return ctrl.Result{RequeueAfter: pendingRequeue}, nil
	}
	if len(held) > 0 {
		// Read the clusters' sveltos-nats Secrets again now and then.
		return ctrl.Result{RequeueAfter: r.messagingRecheck()}, nil
	}
	return ctrl.Result{}, nil
}

// processCluster evaluates the trigger's EventSource in one source cluster and
// renders what it generates there.
func (r *TriggerReconciler) processCluster(ctx context.Context, trigger *libv1beta1.EventTrigger, c selection.Cluster, keep map[clusters.WatchKey]bool) (clusterOutcome, *desired) {
	ref := c.Ref()
	fail := func(status libv1beta1.FeatureStatus, pending bool, err error) (clusterOutcome, *desired) {
		msg := err.Error()
		return clusterOutcome{info: libv1beta1.ClusterInfo{Cluster: ref, Status: status, FailureMessage: &msg}, preserve: true, pending: pending}, nil
	}
	if !c.Eligible() {
		return fail(libv1beta1.FeatureStatusProvisioning, true, fmt.Errorf("cluster %s is not ready", c.ID))
	}
	clusterMap, err := templating.ClusterMap(c.Object)
	if err != nil {
		return fail(libv1beta1.FeatureStatusFailed, false, err)
	}
	sourceName := trigger.Spec.EventSourceName
	if strings.Contains(sourceName, "{{") {
		if sourceName, err = templating.Render(fmt.Sprintf("EventTrigger %s eventSourceName", trigger.Name), sourceName, map[string]any{"Cluster": clusterMap}, nil); err != nil {
			return fail(libv1beta1.FeatureStatusFailed, false, err)
		}
	}
	source := &libv1beta1.EventSource{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: sourceName}, source); err != nil {
		if apierrors.IsNotFound(err) {
			// Without its EventSource the trigger has no events in this cluster: nothing is kept.
			msg := fmt.Sprintf("EventSource %s not found", sourceName)
			return clusterOutcome{info: libv1beta1.ClusterInfo{Cluster: ref, Status: libv1beta1.FeatureStatusFailed, FailureMessage: &msg}}, newDesired()
		}
		return fail(libv1beta1.FeatureStatusFailed, true, fmt.Errorf("reading EventSource %s: %w", sourceName, err))
	}
	if len(source.Spec.MessagingMatchCriteria) > 0 {
		return r.processCloudEvents(ctx, trigger, c, source, clusterMap)
	}
	matchers, err := CompileSelectors(source)
	if err != nil {
		return fail(libv1beta1.FeatureStatusFailed, false, err)
	}
	aggregated, err := compileAggregatedSelection(source)
	if err != nil {
		return fail(libv1beta1.FeatureStatusFailed, false, err)
	}
	matches, synced, err := r.evaluate(ctx, trigger.Name, c.ID, matchers, keep)
	if err != nil {
		return fail(libv1beta1.FeatureStatusFailed, true, err)
	}
	if !synced {
		return fail(libv1beta1.FeatureStatusProvisioning, true, fmt.Errorf("waiting for the watches on cluster %s to sync", c.ID))
	}
	if aggregated != nil {
		var message string
		if matches, message, err = aggregate(source, aggregated, matches); err != nil {
			err = fmt.Errorf("cluster %s: %w", c.ID, err)
			r.event(source, corev1.EventTypeWarning, "AggregatedSelectionFailed", "%s", err.Error())
			return fail(libv1beta1.FeatureStatusFailed, false, err)
		}
		if message != "" {
			log.FromContext(ctx).V(1).Info("aggregatedSelection", "eventSource", source.Name, "cluster", c.ID.String(), "message", message, "kept", len(matches))
		}
	}
	report := &pendingReport{source: source, cluster: c.ID, matches: matches}
	fail = func(status libv1beta1.FeatureStatus, pending bool, err error) (clusterOutcome, *desired) {
		msg := err.Error()
		return clusterOutcome{info: libv1beta1.ClusterInfo{Cluster: ref, Status: status, FailureMessage: &msg}, preserve: true, pending: pending, report: report}, nil
	}

	got := newDesired()
	g := &generator{reader: r.Client, namespace: r.Namespace, trigger: trigger, out: got}
	base := origin{trigger: trigger.Name, cluster: c.ID.Normal(), eventSource: source.Name}
	if trigger.Spec.OneForEvent {
		for i := range matches {
			m := &matches[i]
			o := base
			o.resource = &types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()}
			var res map[string]any
			if source.Spec.CollectResources {
				res = resourceMap(m)
			}
			if err := g.event(ctx, o, oneEventData(clusterMap, objectRef(m), res)); err != nil {
				r.event(trigger, corev1.EventTypeWarning, "InstantiationFailed", "cluster %s: %s", c.ID, err.Error())
				return fail(libv1beta1.FeatureStatusFailed, false, err)
			}
		}
	} else if len(matches) > 0 {
		refs := make([]corev1.ObjectReference, 0, len(matches))
		resources := make([]map[string]any, 0, len(matches))
		for i := range matches {
			refs = append(refs, objectRef(&matches[i]))
			resources = append(resources, resourceMap(&matches[i]))
		}
		if err := g.event(ctx, base, clusterEventsData(clusterMap, refs, resources, source.Spec.CollectResources)); err != nil {
			r.event(trigger, corev1.EventTypeWarning, "InstantiationFailed", "cluster %s: %s", c.ID, err.Error())
			return fail(libv1beta1.FeatureStatusFailed, false, err)
		}
	}
	return clusterOutcome{info: libv1beta1.ClusterInfo{Cluster: ref, Status: libv1beta1.FeatureStatusProvisioned, Hash: got.hash()}, report: report}, got
}

// evaluate lists, from the shared informers of cluster, the objects matching
// the EventSource's selectors, sorted and without duplicates. synced is false
// while any informer has not completed its initial list.
func (r *TriggerReconciler) evaluate(ctx context.Context, trigger string, cluster libv1beta1.ClusterID, matchers []*Matcher, keep map[clusters.WatchKey]bool) ([]unstructured.Unstructured, bool, error) {
	synced := true
	for _, m := range matchers {
		key := clusters.WatchKey{Cluster: cluster, GVK: m.GVK()}
		keep[key] = true
		ok, err := r.watcher.Watch(ctx, key, trigger)
		if err != nil {
			return nil, false, err
		}
		synced = synced && ok
	}
	if !synced {
		return nil, false, nil
	}
	seen := map[string]bool{}
	var out []unstructured.Unstructured
	for _, m := range matchers {
		items, err := r.watcher.List(clusters.WatchKey{Cluster: cluster, GVK: m.GVK()}, m.Namespace())
		if err != nil {
			return nil, false, err
		}
		for i := range items {
			obj := &items[i]
			// Objects from the cache may lack apiVersion/kind.
			obj.SetGroupVersionKind(m.GVK())
			id := m.GVK().String() + "/" + obj.GetNamespace() + "/" + obj.GetName()
			if seen[id] {
				continue
			}
			ok, err := m.Matches(obj)
			if err != nil {
				return nil, false, fmt.Errorf("cluster %s: %w", cluster, err)
			}
			if ok {
				seen[id] = true
				out = append(out, *obj)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.GetKind() != b.GetKind() {
			return a.GetKind() < b.GetKind()
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
	return out, true, nil
}

func objectRef(obj *unstructured.Unstructured) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// resourceMap is the object as templates see it, without managedFields.
func resourceMap(obj *unstructured.Unstructured) map[string]any {
	m := obj.DeepCopy().Object
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return m
}

// compileClusterSelectors compiles the trigger's source and destination cluster selectors.
func compileClusterSelectors(spec *libv1beta1.EventTriggerSpec) (source, destination labels.Selector, err error) {
	if source, err = selection.Compile(spec.SourceClusterSelector); err != nil {
		return nil, nil, fmt.Errorf("sourceClusterSelector: %w", err)
	}
	if destination, err = selection.Compile(spec.DestinationClusterSelector); err != nil {
		return nil, nil, fmt.Errorf("destinationClusterSelector: %w", err)
	}
	return source, destination, nil
}

// setReadiness sets the trigger's Ready condition from its clusterInfo: False
// naming the source clusters that failed, Unknown (Reconciling) naming those
// still waiting (not ready, watches not synced), True when every source
// cluster's events were processed. It reads only the clusterInfo, so managers of
// different shards, which share it, agree on the condition.
func setReadiness(trigger *libv1beta1.EventTrigger) {
	var failed, waiting []string
	for _, ci := range trigger.Status.ClusterInfo {
		entry := ci.Cluster.Namespace + "/" + ci.Cluster.Name
		if ci.FailureMessage != nil {
			entry += ": " + *ci.FailureMessage
		}
		switch ci.Status {
		case libv1beta1.FeatureStatusFailed, libv1beta1.FeatureStatusFailedNonRetriable:
			failed = append(failed, entry)
		case libv1beta1.FeatureStatusProvisioned:
		default:
			waiting = append(waiting, entry)
		}
	}
	total := len(trigger.Status.ClusterInfo)
	switch {
	case len(failed) > 0:
		conditions.MarkFailed(trigger, conditions.Failed, "failed in %d of %d source clusters: %s", len(failed), total, strings.Join(failed, "; "))
	case len(waiting) > 0:
		conditions.MarkReconciling(trigger, conditions.Progressing, "waiting for %d of %d source clusters: %s", len(waiting), total, strings.Join(waiting, "; "))
	case total == 0:
		conditions.MarkReady(trigger, "no source cluster matches")
	default:
		conditions.MarkReady(trigger, "the events of %d source clusters are processed", total)
	}
}
