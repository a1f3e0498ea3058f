package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// CloudEvent actions (EventTrigger spec.cloudEventAction, rendered).
const (
	ActionCreate = "Create"
	ActionDelete = "Delete"
)

// Receipt says what one CloudEvent did: per EventTrigger whose EventSource
// matched it, the action taken or why it was rejected. No trigger means the
// CloudEvent matched nothing.
type Receipt struct {
	Event    string           `json:"event"`
	Triggers []TriggerReceipt `json:"triggers"`
}

// TriggerReceipt is what one EventTrigger did with a CloudEvent.
type TriggerReceipt struct {
	Trigger  string `json:"trigger"`
	Action   string `json:"action,omitempty"`
	Rejected string `json:"rejected,omitempty"`
}

// Accepted is the number of triggers that acted on the CloudEvent.
func (r *Receipt) Accepted() int {
	n := 0
	for _, t := range r.Triggers {
		if t.Rejected == "" {
			n++
		}
	}
	return n
}

// ErrNotReceivable is wrapped by Receive's errors that redelivery cannot
// fix: the cluster does not exist or belongs to another shard.
var ErrNotReceivable = errors.New("CloudEvent cannot be received")

func describeEvent(ev *cloudevents.Event) string {
	return fmt.Sprintf("CloudEvent %s (source %q, subject %q, type %q)", ev.ID(), ev.Source(), ev.Subject(), ev.Type())
}

// Receive processes one CloudEvent received for a source cluster on a NATS
// subject (empty for HTTP without one). For every EventTrigger sourcing the
// cluster whose EventSource's messagingMatchCriteria match it, the rendered
// cloudEventAction adds (Create) or removes (Delete) the entry of the event's
// (source, subject) in the trigger's record for the cluster — after checking
// that the trigger renders with it, so a bad event changes nothing and is
// reported instead — then the trigger is reconciled at once, through the same
// path as any event. It returns once the generated objects are written; an
// error means nothing is lost by processing the event again.
func (r *TriggerReconciler) Receive(ctx context.Context, cluster libv1beta1.ClusterID, subject string, ev *cloudevents.Event) (*Receipt, error) {
	return r.receive(ctx, cluster, subject, ev, true)
}

// receive is Receive; with reconcile false it only records the event (a
// replica that does not lead: the leader's reconcile follows the record).
func (r *TriggerReconciler) receive(ctx context.Context, cluster libv1beta1.ClusterID, subject string, ev *cloudevents.Event, reconcile bool) (*Receipt, error) {
	cluster = cluster.Normal()
	receipt := &Receipt{Event: describeEvent(ev)}
	c, err := r.Fleet.Get(ctx, cluster)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return receipt, fmt.Errorf("%w: cluster %s is not registered", ErrNotReceivable, cluster)
		}
		return receipt, err
	}
	if !r.Shard.Owns(c.Object) {
		return receipt, fmt.Errorf("%w: cluster %s belongs to another shard", ErrNotReceivable, cluster)
	}
	clusterMap, err := templating.ClusterMap(c.Object)
	if err != nil {
		return receipt, fmt.Errorf("%w: %w", ErrNotReceivable, err)
	}
	list := &libv1beta1.EventTriggerList{}
	if err := r.Client.List(ctx, list); err != nil {
		return receipt, fmt.Errorf("listing EventTriggers: %w", err)
	}
	slices.SortFunc(list.Items, func(a, b libv1beta1.EventTrigger) int { return strings.Compare(a.Name, b.Name) })
	evMap := cloudEventMap(ev)
	for i := range list.Items {
		trigger := &list.Items[i]
		source, ok := r.cloudEventSource(ctx, trigger, c, clusterMap)
		if !ok {
			continue
		}
		matchers, err := compileMessaging(source)
		if err != nil || !matchesCloudEvent(matchers, subject, ev) {
			continue
		}
		tr, err := r.receiveFor(ctx, trigger, c, source, clusterMap, evMap, ev, reconcile)
		if err != nil {
			return receipt, err
		}
		receipt.Triggers = append(receipt.Triggers, tr)
	}
	if len(receipt.Triggers) == 0 {
		r.event(c.Object, corev1.EventTypeWarning, "CloudEventUnmatched", "%s received on subject %q matches no EventTrigger sourcing this cluster", receipt.Event, subject)
	}
	return receipt, nil
}

// cloudEventSource returns the EventSource of trigger when the trigger sources
// cluster c and its EventSource selects CloudEvents.
func (r *TriggerReconciler) cloudEventSource(ctx context.Context, trigger *libv1beta1.EventTrigger, c selection.Cluster, clusterMap map[string]any) (*libv1beta1.EventSource, bool) {
	if !trigger.DeletionTimestamp.IsZero() || c.Deleting {
		return nil, false
	}
	sourceSel, _, err := compileClusterSelectors(&trigger.Spec)
	if err != nil || !sourceSel.Matches(labels.Set(c.Labels)) {
		return nil, false
	}
	name := trigger.Spec.EventSourceName
	if strings.Contains(name, "{{") {
		if name, err = templating.Render("eventSourceName", name, map[string]any{"Cluster": clusterMap}, nil); err != nil {
			return nil, false
		}
	}
	source := &libv1beta1.EventSource{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: name}, source); err != nil {
		return nil, false
	}
	return source, len(source.Spec.MessagingMatchCriteria) > 0
}

// receiveFor applies one CloudEvent to one trigger's record for cluster c and
// reconciles the trigger.
func (r *TriggerReconciler) receiveFor(ctx context.Context, trigger *libv1beta1.EventTrigger, c selection.Cluster, source *libv1beta1.EventSource,
	clusterMap, evMap map[string]any, ev *cloudevents.Event, reconcile bool) (TriggerReceipt, error) {
	tr := TriggerReceipt{Trigger: trigger.Name}
	id := c.ID.Normal()
	key := entryKey(ev.Source(), ev.Subject())
	reject := func(err error) (TriggerReceipt, error) {
		tr.Rejected = fmt.Sprintf("%s rejected: %s", describeEvent(ev), strings.TrimPrefix(err.Error(), describeEvent(ev)+": "))
		r.event(trigger, corev1.EventTypeWarning, "CloudEventRejected", "cluster %s: %s", id, tr.Rejected)
		if err := updateRecord(ctx, r.Client, r.Namespace, trigger.Name, id, func(cm *corev1.ConfigMap) bool {
			if cm.Annotations[rejectedAnnotation] == tr.Rejected {
				return false
			}
			if cm.Annotations == nil {
				cm.Annotations = map[string]string{}
			}
			cm.Annotations[rejectedAnnotation] = tr.Rejected
			return true
		}); err != nil {
			return tr, err
		}
		return tr, r.reconcileNow(ctx, trigger.Name, reconcile)
	}

	action, err := renderAction(trigger, clusterMap, evMap)
	if err != nil {
		return reject(err)
	}
	tr.Action = action
	raw, err := json.Marshal(ev)
	if err != nil {
		return reject(fmt.Errorf("encoding: %w", err))
	}
	// Render what the trigger generates with the event applied: an event the
	// templates fail on is rejected before anything is written.
	record, err := readRecord(ctx, r.apiReader(), r.Namespace, trigger.Name, id)
	if err != nil {
		return tr, err
	}
	live, err := liveEvents(record)
	if err != nil {
		return tr, err
	}
	next := slices.DeleteFunc(live, func(e *cloudevents.Event) bool { return entryKey(e.Source(), e.Subject()) == key })
	if action == ActionCreate {
		next = append(next, ev)
		sortEvents(next)
	}
	if _, err := r.generateCloudEvents(ctx, trigger, id, source.Name, clusterMap, next); err != nil {
		return reject(err)
	}
	if err := updateRecord(ctx, r.Client, r.Namespace, trigger.Name, id, func(cm *corev1.ConfigMap) bool {
		changed := false
		if _, ok := cm.Annotations[rejectedAnnotation]; ok {
			delete(cm.Annotations, rejectedAnnotation)
			changed = true
		}
		switch action {
		case ActionCreate:
			if cm.Data[key] != string(raw) {
				cm.Data[key] = string(raw)
				changed = true
			}
		case ActionDelete:
			if _, ok := cm.Data[key]; ok {
				delete(cm.Data, key)
				changed = true
			}
		}
		return changed
	}); err != nil {
		return tr, err
	}
	r.event(trigger, corev1.EventTypeNormal, "CloudEventReceived", "cluster %s: %s: %s", id, describeEvent(ev), action)
	return tr, r.reconcileNow(ctx, trigger.Name, reconcile)
}

// renderAction renders the trigger's cloudEventAction (default Create).
func renderAction(trigger *libv1beta1.EventTrigger, clusterMap, evMap map[string]any) (string, error) {
	text := trigger.Spec.CloudEventAction
	if text == "" {
		return ActionCreate, nil
	}
	action := text
	if strings.Contains(text, "{{") {
		var err error
		if action, err = templating.NewCloudEventContext(clusterMap, evMap).Render(fmt.Sprintf("EventTrigger %s cloudEventAction", trigger.Name), text); err != nil {
			return "", err
		}
		action = strings.TrimSpace(action)
	}
	if action != ActionCreate && action != ActionDelete {
		return "", fmt.Errorf("EventTrigger %s cloudEventAction rendered %q, want Create or Delete", trigger.Name, action)
	}
	return action, nil
}

// reconcileNow reconciles one trigger at once (serialised with the
// controller's reconciles of it). An error leaves the record written: the
// controller retries, and the event may be processed again.
func (r *TriggerReconciler) reconcileNow(ctx context.Context, trigger string, now bool) error {
	if !now {
		return nil
	}
	_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: trigger}})
	return err
}

// generateCloudEvents renders what trigger generates for the live CloudEvents
// of one source cluster: per event with oneForEvent, else one profile for all.
func (r *TriggerReconciler) generateCloudEvents(ctx context.Context, trigger *libv1beta1.EventTrigger, cluster libv1beta1.ClusterID, sourceName string,
	clusterMap map[string]any, evs []*cloudevents.Event) (*desired, error) {
	got := newDesired()
	g := &generator{reader: r.Client, namespace: r.Namespace, trigger: trigger, out: got}
	base := origin{trigger: trigger.Name, cluster: cluster, eventSource: sourceName}
	if trigger.Spec.OneForEvent {
		for _, ev := range evs {
			o := base
			o.cloudEvent = &[2]string{ev.Source(), ev.Subject()}
			if err := g.event(ctx, o, cloudEventData(clusterMap, cloudEventMap(ev))); err != nil {
				return nil, fmt.Errorf("%s: %w", describeEvent(ev), err)
			}
		}
		return got, nil
	}
	if len(evs) == 0 {
		return got, nil
	}
	all := make([]map[string]any, 0, len(evs))
	for _, ev := range evs {
		all = append(all, cloudEventMap(ev))
	}
	if err := g.event(ctx, base, clusterCloudEventsData(clusterMap, all)); err != nil {
		return nil, err
	}
	return got, nil
}

// processCloudEvents is processCluster for an EventSource selecting
// CloudEvents: it keeps the cluster's NATS connections and generates from the
// trigger's record of live CloudEvents. A broken connection or a rejected
// CloudEvent fails the cluster's status, but what the record holds is still
// generated.
func (r *TriggerReconciler) processCloudEvents(ctx context.Context, trigger *libv1beta1.EventTrigger, c selection.Cluster, source *libv1beta1.EventSource, clusterMap map[string]any) (clusterOutcome, *desired) {
	ref := c.Ref()
	id := c.ID.Normal()
	fail := func(pending bool, err error) (clusterOutcome, *desired) {
		msg := err.Error()
		return clusterOutcome{info: libv1beta1.ClusterInfo{Cluster: ref, Status: libv1beta1.FeatureStatusFailed, FailureMessage: &msg}, preserve: true, pending: pending, messaging: true}, nil
	}
	if _, err := compileMessaging(source); err != nil {
		return fail(false, err)
	}
	var connErr error
	if r.messaging != nil {
		connErr = r.messaging.hold(ctx, id, trigger.Name)
	}
	record, err := readRecord(ctx, r.apiReader(), r.Namespace, trigger.Name, id)
	if err != nil {
		return fail(true, err)
	}
	live, err := liveEvents(record)
	if err != nil {
		return fail(false, err)
	}
	got, err := r.generateCloudEvents(ctx, trigger, id, source.Name, clusterMap, live)
	if err != nil {
		return fail(false, err)
	}
	out := clusterOutcome{info: libv1beta1.ClusterInfo{Cluster: ref, Status: libv1beta1.FeatureStatusProvisioned, Hash: got.hash()}, messaging: true}
	var problems []string
	if connErr != nil {
		problems = append(problems, connErr.Error())
		out.pending = true
	}
	if record != nil && record.Annotations[rejectedAnnotation] != "" {
		problems = append(problems, record.Annotations[rejectedAnnotation])
	}
	if len(problems) > 0 {
		msg := strings.Join(problems, "; ")
		out.info.Status, out.info.FailureMessage = libv1beta1.FeatureStatusFailed, &msg
	}
	return out, got
}

// deliver is how the NATS connections hand a message to the engine: an
// unparsable message is reported on the cluster and dropped (acknowledged), as
// is one for a cluster that cannot receive it; other errors ask for redelivery.
func (r *TriggerReconciler) deliver(ctx context.Context, cluster libv1beta1.ClusterID, subject string, header http.Header, data []byte) error {
	logger := log.FromContext(ctx).WithValues("cluster", cluster.String(), "subject", subject)
	ev, err := ParseCloudEvent(ctx, header, data)
	if err != nil {
		r.clusterEvent(ctx, cluster, corev1.EventTypeWarning, "CloudEventInvalid", "message on subject %q dropped: %s", subject, err)
		logger.Info("dropped a message that is not a CloudEvent", "error", err.Error())
		return nil
	}
	receipt, err := r.Receive(ctx, cluster, subject, ev)
	if errors.Is(err, ErrNotReceivable) {
		logger.Info("dropped a CloudEvent", "error", err.Error())
		return nil
	}
	if err == nil {
		logger.V(1).Info("CloudEvent processed", "event", receipt.Event, "triggers", receipt.Triggers)
	}
	return err
}

// event records a Kubernetes Event on obj when the reconciler has a recorder.
func (r *TriggerReconciler) event(obj runtime.Object, eventType, reason, format string, args ...any) {
	if r.Recorder == nil || obj == nil {
		return
	}
	r.Recorder.Eventf(obj, nil, eventType, reason, "Receive", format, args...)
}

// clusterEvent records an Event on the cluster object, when it exists.
func (r *TriggerReconciler) clusterEvent(ctx context.Context, cluster libv1beta1.ClusterID, eventType, reason, format string, args ...any) {
	c, err := r.Fleet.Get(ctx, cluster)
	if err != nil {
		return
	}
	r.event(c.Object, eventType, reason, format, args...)
}

// keyedMutex serialises work per key (trigger name).
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu    sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e, ok := k.locks[key]
	if !ok {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.users++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.users--
		if e.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// startMessaging creates the NATS connection keeper (SetupWithManager, and
// tests reconciling outside a manager).
func (r *TriggerReconciler) startMessaging(logger logr.Logger) {
	r.messaging = newMessaging(r.Registry, r.deliver, r.messagingRecheck(), logger)
}

func (r *TriggerReconciler) messagingRecheck() time.Duration {
	if r.MessagingRecheck > 0 {
		return r.MessagingRecheck
	}
	return 30 * time.Second
}

func (r *TriggerReconciler) apiReader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}
