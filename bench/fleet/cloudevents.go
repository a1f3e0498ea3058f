package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/localkube"
)

// The CloudEvents phase (section 7): the same change — a ConfigMap deployed by
// a generated ClusterProfile into a managed cluster — raised four ways, one
// sample of each in turn so that the machine's load weighs on all four alike:
//
//   - kubernetes: the harness creates the object an EventSource watches (a
//     labelled ConfigMap) in the source cluster — the baseline, the path the
//     other event phase measures;
//   - http: the harness POSTs a CloudEvent to the manager's endpoint
//     (POST /events/<namespace>/<cluster>, bearer token, structured mode);
//   - nats: the harness publishes the same CloudEvent on core NATS, to the real
//     NATS server the source cluster's sveltos-nats Secret names;
//   - jetstream: the harness publishes it on a JetStream stream of the same
//     server (the Secret's jetstream section; the manager's durable consumer
//     acknowledges once the event is recorded and the trigger reconciled).
//
// Each sample is timed from the trigger until the harness's watch on the
// managed API server sees the deployed ConfigMap, then withdrawn (the source
// object deleted, or a CloudEvent whose action renders Delete) and timed until
// the ConfigMap is gone and no generated ClusterProfile is left.

const (
	ceTrigger    = "bench-ce"  // EventSource/EventTrigger of the CloudEvents
	k8sTrigger   = "bench-k8s" // EventSource/EventTrigger of the baseline
	ceSourceNS   = "bench-ce-src"
	ceDeployNS   = "bench-ce"
	ceNATSSubj   = "bench.ce"
	ceJSSubj     = "bench.js"
	ceJSStream   = "BENCH"
	ceNATSToken  = "bench-nats-token"
	ceHTTPToken  = "bench-events-token"
	ceSourceAttr = "bench.tugboat.dev"
	ceSettle     = 200 * time.Millisecond
)

// ceTokenSecret is the Secret the manager's endpoint reads the bearer token from.
var ceTokenSecret = types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: "bench-events-token"}

// ceModes are the four ways of raising the change, in the order samples take turns.
var ceModes = []string{"kubernetes", "http", "nats", "jetstream"}

// ceMode is what the phase measured for one way.
type ceMode struct {
	deploy   dist // trigger → ConfigMap seen in the managed cluster
	answer   dist // http only: POST → 200 (entry recorded, ClusterProfile written)
	withdraw dist // withdrawal trigger → ConfigMap gone
	cycles   int  // samples counted in the writes below (create and withdraw, settled)
	// writes over those cycles
	managedWrites int64 // Connection.Writes of the managed clusters
	mgmtWrites    int64 // management API server's count (all clients; the harness writes nothing there during samples)
}

// cloudEventsResult is section 7 of the report.
type cloudEventsResult struct {
	n       int
	source  fleetCluster
	modes   map[string]*ceMode
	started time.Time
	tree    string
	load    [2]string
	fleet   int
	command string
}

// eventsOptions are the manager's CloudEvents endpoint options when the phase runs.
func eventsOptions() *events.HTTPOptions {
	return &events.HTTPOptions{Address: "127.0.0.1:0", TokenSecret: ceTokenSecret}
}

// ceEvent is a structured-mode CloudEvent for the change named subject.
func ceEvent(id, typ, subject string) []byte {
	return mustJSON(map[string]any{"specversion": "1.0", "id": id, "source": ceSourceAttr, "type": typ, "subject": subject,
		"datacontenttype": "application/json", "data": map[string]any{"name": subject}})
}

// ceDeployed is the policy both triggers instantiate: one ConfigMap named after
// the event (the CloudEvent's subject, or the watched object's name).
func ceDeployed(nameExpr string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ %s }}
  namespace: %s
  labels:
    %s: cloudevents
data:
  cluster: {{ .Cluster.metadata.name }}
`, nameExpr, ceDeployNS, profileLabel)
}

// cloudEventsSetup creates the triggers, the NATS server and the source
// cluster's sveltos-nats Secret, and waits until the triggers have processed
// the source cluster. The returned function stops the NATS server.
func (h *harness) cloudEventsSetup(ctx context.Context, src fleetCluster) (*nats.Conn, jetstream.JetStream, func(), error) {
	// Core NATS (at most once, as the Sveltos example) on ceNATSSubj, and a
	// JetStream stream on ceJSSubj (its store in a temporary folder).
	store, err := os.MkdirTemp("", "tugboat-bench-jetstream-")
	if err != nil {
		return nil, nil, nil, err
	}
	ns, err := localkube.StartNATS(localkube.NATSOptions{Token: ceNATSToken, StoreDir: store})
	if err != nil {
		_ = os.RemoveAll(store)
		return nil, nil, nil, fmt.Errorf("starting NATS: %w", err)
	}
	stop := func() { ns.Stop(); _ = os.RemoveAll(store) }
	fail := func(err error) (*nats.Conn, jetstream.JetStream, func(), error) { stop(); return nil, nil, nil, err }
	nc, err := nats.Connect(ns.URL(), nats.Token(ceNATSToken))
	if err != nil {
		return fail(err)
	}
	stopAll := func() { nc.Close(); stop() }
	js, err := jetstream.New(nc)
	if err != nil {
		stopAll()
		return nil, nil, nil, err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: ceJSStream, Subjects: []string{ceJSSubj}}); err != nil {
		stopAll()
		return nil, nil, nil, fmt.Errorf("creating the JetStream stream %s: %w", ceJSStream, err)
	}

	s := src.server
	for _, n := range []string{libv1beta1.NATSSecretNamespace, ceSourceNS, ceDeployNS} {
		if err := h.ensureNamespace(ctx, s.c, n); err != nil {
			stopAll()
			return nil, nil, nil, err
		}
	}
	section := func(subject string) map[string]any {
		return map[string]any{"configuration": map[string]any{
			"url": ns.URL(), "subjects": []string{subject}, "authorization": map[string]any{"token": ceNATSToken}}}
	}
	cfg := mustJSON(map[string]any{"nats": section(ceNATSSubj), "jetstream": section(ceJSSubj)})
	if err := s.c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: libv1beta1.NATSSecretNamespace, Name: libv1beta1.NATSSecretName},
		Data:       map[string][]byte{libv1beta1.NATSSecretKey: cfg},
	}); err != nil {
		stopAll()
		return nil, nil, nil, fmt.Errorf("creating the sveltos-nats Secret: %w", err)
	}
	if err := h.ensureNamespace(ctx, h.mgmt, ceTokenSecret.Namespace); err != nil {
		stopAll()
		return nil, nil, nil, err
	}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ceTokenSecret.Namespace, Name: ceTokenSecret.Name},
			Data: map[string][]byte{events.HTTPTokenKey: []byte(ceHTTPToken)}},
		policyCM(ceTrigger, ceDeployed(".CloudEvent.subject")),
		policyCM(k8sTrigger, ceDeployed(".Resource.metadata.name")),
		&libv1beta1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: ceTrigger}, Spec: libv1beta1.EventSourceSpec{
			MessagingMatchCriteria: []libv1beta1.MessagingMatchCriteria{{CloudEventSource: "^" + ceSourceAttr + "$"}}}},
		&libv1beta1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: k8sTrigger}, Spec: libv1beta1.EventSourceSpec{
			CollectResources: true, // .Resource in the template
			ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: ceSourceNS,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{profileLabel: k8sTrigger}}}}}},
		ceEventTrigger(ceTrigger, `{{ if eq .CloudEvent.type "bench.released" }}Delete{{ else }}Create{{ end }}`),
		ceEventTrigger(k8sTrigger, ""),
	}
	for _, o := range objs {
		if err := h.mgmt.Create(ctx, o); err != nil {
			stopAll()
			return nil, nil, nil, fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	if err := h.setClusterLabels(ctx, src, map[string]string{"bench.tugboat.dev/events": "source"}); err != nil {
		stopAll()
		return nil, nil, nil, err
	}
	for _, tr := range []string{ceTrigger, k8sTrigger} {
		if err := h.waitFor(ctx, "trigger "+tr+" processed "+src.name, 2*time.Minute, func() (bool, error) {
			got := &libv1beta1.EventTrigger{}
			if err := h.mgmt.Get(ctx, types.NamespacedName{Name: tr}, got); err != nil {
				return false, err
			}
			for _, ci := range got.Status.ClusterInfo {
				if ci.Cluster.Name == src.name && ci.Cluster.Namespace == src.name {
					return ci.Status == libv1beta1.FeatureStatusProvisioned, nil
				}
			}
			return false, nil
		}); err != nil {
			stopAll()
			return nil, nil, nil, err
		}
	}
	return nc, js, stopAll, nil
}

// triggerReport is what the trigger of a way says about the source cluster (for a timed-out sample).
func (h *harness) triggerReport(ctx context.Context, mode string) string {
	name := ceTrigger
	if mode == "kubernetes" {
		name = k8sTrigger
	}
	tr := &libv1beta1.EventTrigger{}
	if err := h.mgmt.Get(ctx, types.NamespacedName{Name: name}, tr); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("trigger %s: clusterInfo %s, conditions %v", name, mustJSON(tr.Status.ClusterInfo), tr.Status.Conditions)
}

func policyCM(name, manifest string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: map[string]string{libv1beta1.InstantiateAnnotation: "ok"}},
		Data:       map[string]string{"configmap.yaml": manifest},
	}
}

func ceEventTrigger(name, action string) *libv1beta1.EventTrigger {
	return &libv1beta1.EventTrigger{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: libv1beta1.EventTriggerSpec{
		SourceClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"bench.tugboat.dev/events": "source"}}},
		EventSourceName:       name,
		OneForEvent:           true,
		CloudEventAction:      action,
		PolicyRefs:            []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: name}},
	}}
}

// cloudEvents runs the phase.
func (h *harness) cloudEvents(ctx context.Context) error {
	src := h.clusters[0]
	res := &cloudEventsResult{n: h.cfg.cloudEventsN, source: src, modes: map[string]*ceMode{}, started: time.Now(),
		tree: gitDescribe(), fleet: len(h.clusters), command: h.cfg.command}
	res.load[0] = readLoad()
	for _, m := range ceModes {
		res.modes[m] = &ceMode{}
	}
	nc, js, stop, err := h.cloudEventsSetup(ctx, src)
	if err != nil {
		return err
	}
	defer stop()
	h.rep.cloudEvents = res
	r := &ceRunner{h: h, src: src, nc: nc, js: js, http: &http.Client{Timeout: time.Minute},
		url: fmt.Sprintf("http://%s/events/%s/%s", h.mgr.Events.Addr(), src.name, src.name)}

	// Warm-up (not timed): one sample of each way.
	for _, m := range ceModes {
		if err := r.sample(ctx, m, "warmup-"+m, &ceMode{}); err != nil {
			return fmt.Errorf("warm-up %s: %w", m, err)
		}
	}
	logf("cloudevents: %d samples per way (%v), taking turns", h.cfg.cloudEventsN, ceModes)
	for i := range h.cfg.cloudEventsN {
		for _, m := range ceModes {
			if err := r.sample(ctx, m, fmt.Sprintf("%s-%03d", m[:4], i), res.modes[m]); err != nil {
				return err
			}
		}
		if (i+1)%10 == 0 {
			logf("cloudevents: %d/%d (http p50 %s)", i+1, h.cfg.cloudEventsN, ms(res.modes["http"].deploy.quantile(.5)))
		}
	}
	res.load[1] = readLoad()
	return nil
}

func readLoad() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return string(bytes.TrimSpace(b))
}

// ceRunner raises and withdraws the change.
type ceRunner struct {
	h    *harness
	src  fleetCluster
	nc   *nats.Conn
	js   jetstream.JetStream
	http *http.Client
	url  string
	seq  int
}

// sample raises the change named name one way, times it to the deployed
// ConfigMap, withdraws it and times that, and adds the writes of the whole
// cycle (settled) to out.
func (r *ceRunner) sample(ctx context.Context, mode, name string, out *ceMode) error {
	h := r.h
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	added, err := awaitObject(wctx, r.src.server, "configmaps", ceDeployNS, name, func(t watch.EventType, _ *unstructured.Unstructured) bool {
		return t == watch.Added
	})
	if err != nil {
		return err
	}
	deleted, err := awaitObject(wctx, r.src.server, "configmaps", ceDeployNS, name, func(t watch.EventType, _ *unstructured.Unstructured) bool {
		return t == watch.Deleted
	})
	if err != nil {
		return err
	}
	w0 := h.managerWrites(ctx)
	m0, err := scrape(ctx, h.mgmtCS)
	if err != nil {
		return err
	}

	t0 := time.Now()
	if err := r.raise(ctx, mode, name, "bench.requested", out); err != nil {
		return err
	}
	select {
	case at := <-added:
		out.deploy.add(at.Sub(t0))
	case <-time.After(30 * time.Second):
		out.deploy.failures++
		logf("cloudevents: %s (%s) not deployed after 30 s; %s", name, mode, h.triggerReport(ctx, mode))
	case <-ctx.Done():
		return ctx.Err()
	}

	t1 := time.Now()
	if err := r.withdraw(ctx, mode, name); err != nil {
		return err
	}
	select {
	case at := <-deleted:
		out.withdraw.add(at.Sub(t1))
	case <-time.After(30 * time.Second):
		out.withdraw.failures++
		logf("cloudevents: %s (%s) not withdrawn after 30 s", name, mode)
	case <-ctx.Done():
		return ctx.Err()
	}
	// Settled: no ClusterProfile generated by this phase's triggers left (its
	// finalizer ran), then a pause. Profiles other phases' triggers generated
	// stay: they are not this sample's.
	if err := h.waitFor(ctx, "generated profiles of "+name+" gone", time.Minute, func() (bool, error) {
		for _, tr := range []string{ceTrigger, k8sTrigger} {
			list := &configv1beta1.ClusterProfileList{}
			if err := h.mgmt.List(ctx, list, client.MatchingLabels{libv1beta1.EventTriggerNameLabel: tr}); err != nil {
				return false, err
			}
			if len(list.Items) > 0 {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	time.Sleep(ceSettle)
	m1, err := scrape(ctx, h.mgmtCS)
	if err != nil {
		return err
	}
	out.cycles++
	out.managedWrites += h.managerWrites(ctx) - w0
	out.mgmtWrites += m1.writes - m0.writes
	return nil
}

// raise sends the change one way.
func (r *ceRunner) raise(ctx context.Context, mode, name, typ string, out *ceMode) error {
	r.seq++
	id := fmt.Sprintf("bench-%d", r.seq)
	switch mode {
	case "kubernetes":
		return r.src.server.c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ceSourceNS, Name: name,
			Labels: map[string]string{profileLabel: k8sTrigger}}, Data: map[string]string{"name": name}})
	case "http":
		t0 := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(ceEvent(id, typ, name)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set("Authorization", "Bearer "+ceHTTPToken)
		resp, err := r.http.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s: %d %s", r.url, resp.StatusCode, body)
		}
		if out != nil {
			out.answer.add(time.Since(t0))
		}
		return nil
	case "nats":
		return r.nc.Publish(ceNATSSubj, ceEvent(id, typ, name))
	case "jetstream":
		// Returns once the stream stored it (the server's acknowledgement).
		if _, err := r.js.Publish(ctx, ceJSSubj, ceEvent(id, typ, name)); err != nil {
			return fmt.Errorf("publishing on JetStream %s: %w", ceJSSubj, err)
		}
		return nil
	}
	return fmt.Errorf("unknown way %q", mode)
}

// withdraw undoes the change the way it was raised.
func (r *ceRunner) withdraw(ctx context.Context, mode, name string) error {
	if mode == "kubernetes" {
		return r.src.server.c.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ceSourceNS, Name: name}})
	}
	return r.raise(ctx, mode, name, "bench.released", nil)
}

// cloudEventsSection writes section 7.
func (r *report) cloudEventsSection(p func(string, ...any)) {
	p("## 7. CloudEvents → generated profile → deployed")
	p("")
	c := r.cloudEvents
	if !r.cfg.on("cloudevents") {
		p("Not run (-phases).")
		p("")
		return
	}
	if c == nil {
		p("Not measured (the run stopped before this phase).")
		p("")
		return
	}
	p("Measured %s (tree %s, load %s → %s; %d clusters registered), `%s`.", c.started.UTC().Format("2006-01-02 15:04 MST"), c.tree,
		loadShort(c.load[0]), loadShort(c.load[1]), c.fleet, c.command)
	p("")
	p("The same change four ways, taking turns (one sample of each in turn, %d each, one untimed warm-up each): a ConfigMap", c.n)
	p("named after the event, deployed by the ClusterProfile an EventTrigger (`oneForEvent: true`) generates, into the source")
	p("cluster `%s/%s` (API server %s). **kubernetes** (the baseline): the harness creates the ConfigMap an EventSource's", c.source.name, c.source.name, c.source.server.name)
	p("`resourceSelectors` watch in the source cluster. **http**: it POSTs a structured CloudEvent to the manager's endpoint")
	p("(`POST /events/%s/%s`, bearer token, keep-alive connection). **nats**: it publishes the same CloudEvent on core NATS", c.source.name, c.source.name)
	p("(a real NATS server in the harness process, named by the source cluster's `sveltos-nats` Secret; the manager")
	p("subscribes). **jetstream**: it publishes it on the JetStream stream `%s` (subject `%s`) of the same server, named", ceJSStream, ceJSSubj)
	p("by the Secret's `jetstream` section (the manager's durable pull consumer acknowledges each message once its event is")
	p("recorded and the trigger reconciled; timed from the publish call, which returns once the stream stored it).")
	p("Timed from the trigger until the harness's watch on the managed API server sees the ConfigMap; then")
	p("withdrawn (the watched ConfigMap deleted; a CloudEvent with the same source and subject whose `cloudEventAction`")
	p("renders `Delete`) and timed until the ConfigMap is deleted. Each cycle ends when no generated ClusterProfile is left, plus %s.", ms(ceSettle))
	p("")
	p("| way | step | n | p50 | p90 | p99 | max | timed out |")
	p("| --- | --- | --- | --- | --- | --- | --- | --- |")
	base := c.modes["kubernetes"]
	for _, m := range ceModes {
		d := c.modes[m]
		p("| %s | raised → ConfigMap deployed | %s |", m, d.deploy.row())
		if m == "http" {
			p("| http | POST → 200 (entry recorded, ClusterProfile written) | %s |", d.answer.row())
		}
		p("| %s | withdrawn → ConfigMap deleted | %s |", m, d.withdraw.row())
	}
	p("")
	p("Against the baseline (same run, same cluster):")
	p("")
	p("| way | deploy p50 / baseline | deploy p99 / baseline | withdraw p50 / baseline | writes to the managed cluster per cycle | writes to the management cluster per cycle |")
	p("| --- | --- | --- | --- | --- | --- |")
	for _, m := range ceModes {
		d := c.modes[m]
		cyc := float64(max(d.cycles, 1))
		p("| %s | %s | %s | %s | %.2f | %.1f |", m, ratio(d.deploy.quantile(.5), base.deploy.quantile(.5)), ratio(d.deploy.quantile(.99), base.deploy.quantile(.99)),
			ratio(d.withdraw.quantile(.5), base.withdraw.quantile(.5)), float64(d.managedWrites)/cyc, float64(d.mgmtWrites)/cyc)
	}
	p("")
	p("Writes per cycle (create and withdraw): the manager's `Connection.Writes` to managed clusters, and the management API")
	p("server's own count (all clients; the harness writes nothing there during a sample, so it is the manager's: the")
	p("CloudEvents record ConfigMap, the generated ClusterProfile, its ClusterSummary, statuses, Events, finalizers).")
	p("")
}

// ratio formats a/b as "N.NN×", or "–" when either is missing.
func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// loadShort is the 1-minute load average of a /proc/loadavg line.
func loadShort(l string) string {
	var one string
	if _, err := fmt.Sscan(l, &one); err != nil {
		return l
	}
	return one
}
