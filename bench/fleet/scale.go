package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The phases issue 18 added for fleets of 1,000 and more: a content change on
// every cluster, drift on every cluster at once, an event storm and a restart
// of the manager on a converged fleet.

const (
	// revisionLabel carries the content change's new revision on every object.
	revisionLabel = "bench.tugboat.dev/revision"
	// stormClusterLabel marks the one registration the event storm's source and destination is.
	stormClusterLabel = "bench.tugboat.dev/storm"
	stormName         = "bench-storm"
	stormSource       = "storm-src" // namespace of the matching objects
	stormCopies       = "storm-dst" // namespace of the copies the generated profiles deploy
	stormCopyLabel    = "storm-copies"
	// summaryController is the controller name of the ClusterSummary reconciler.
	summaryController = "clustersummary"
)

// contentChange rewrites the policy of the label phase's profile on n clusters:
// every object gets a new label value, timed until every cluster has every object
// at the new revision.
func (h *harness) contentChange(ctx context.Context, n int) error {
	name := fmt.Sprintf("lbl-n%d", n)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bench-" + name}}
	patch := mustJSON(map[string]any{"data": map[string]string{"objects.yaml": objectsYAMLRevision(name, h.cfg.objects, "2")}})
	r := &rollout{what: "content change (policy ConfigMap edited)", n: n, k: h.cfg.objects, objectsOnly: true,
		match: func(u *unstructured.Unstructured) bool { return u.GetLabels()[revisionLabel] == "2" }}
	return h.measureRollout(ctx, r, name, func() error {
		return h.mgmt.Patch(ctx, cm, client.RawPatch(types.MergePatchType, patch))
	})
}

// driftResult is drift made on every cluster of the drift profile at once.
type driftResult struct {
	n          int
	sent       time.Duration // until the last change was sent
	restored   time.Duration // until the last cluster was restored; 0 when some were not
	perCluster dist          // change sent → restored, per cluster
	writes     int64         // the manager's writes to managed clusters meanwhile
}

// driftEverywhere changes drift-cm in every cluster the drift profile is on
// (16 writers) and times until every one is restored.
func (h *harness) driftEverywhere(ctx context.Context, n int) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	sentAt := map[string]time.Time{}
	drifted := map[string]bool{}
	restored := map[string]time.Time{}
	done := make(chan struct{})
	want := map[string]bool{}
	for _, name := range h.clusterNames(n) {
		want[name] = true
	}
	onEvent := func(typ watch.EventType, u *unstructured.Unstructured, at time.Time) {
		if u.GetName() != "drift-cm" || (typ != watch.Modified && typ != watch.Added) {
			return
		}
		v, _, _ := unstructured.NestedString(u.Object, "data", "a")
		mu.Lock()
		defer mu.Unlock()
		ns := u.GetNamespace()
		if !want[ns] {
			return
		}
		switch {
		case v == "drifted":
			drifted[ns] = true
		case v == "b" && drifted[ns]:
			if _, ok := restored[ns]; !ok {
				restored[ns] = at
				if len(restored) == len(want) {
					close(done)
				}
			}
		}
	}
	for _, s := range h.servers {
		if err := watchLoop(wctx, s.dyn.Resource(gvrConfigMap), metav1.ListOptions{LabelSelector: profileLabel + "=drift"}, onEvent); err != nil {
			return err
		}
	}
	w0 := h.managerWrites(ctx)
	logf("drift everywhere: changing drift-cm in %d clusters", n)
	start := time.Now()
	err := testenv.Parallel(ctx, 16, n, func(i int) error {
		c := h.clusters[i]
		mu.Lock()
		sentAt[c.name] = time.Now()
		mu.Unlock()
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: c.name, Name: "drift-cm"}}
		return c.server.c.Patch(ctx, cm, client.RawPatch(types.MergePatchType, []byte(`{"data":{"a":"drifted"}}`)))
	})
	if err != nil {
		return fmt.Errorf("drifting: %w", err)
	}
	res := &driftResult{n: n, sent: time.Since(start)}
	if err := h.await(ctx, done); err != nil {
		return err
	}
	h.rep.loadAt(fmt.Sprintf("drift on %d clusters at once", n))
	mu.Lock()
	var last time.Time
	for name := range want {
		at, ok := restored[name]
		if !ok {
			res.perCluster.failures++
			continue
		}
		res.perCluster.add(at.Sub(sentAt[name]))
		if at.After(last) {
			last = at
		}
	}
	mu.Unlock()
	if res.perCluster.failures == 0 {
		res.restored = last.Sub(start)
	}
	time.Sleep(2 * time.Second)
	res.writes = h.managerWrites(ctx) - w0
	logf("drift everywhere: %d clusters restored in %s (%d not restored), %d writes", n, ms(res.restored), res.perCluster.failures, res.writes)
	h.rep.driftAll = res
	return nil
}

// stormResult is one event storm.
type stormResult struct {
	n           int
	created     time.Duration // until the last matching object was created
	first, last time.Duration // until the first and the last copy existed
	copies      int
}

// eventStorm creates stormN matching ConfigMaps at once (16 writers) in one
// source cluster; an EventTrigger (oneForEvent) generates one profile per object,
// each deploying a copy of it back to that cluster. Timed until every copy exists.
func (h *harness) eventStorm(ctx context.Context) error {
	c := h.clusters[0]
	src := c.server
	for _, ns := range []string{stormSource, stormCopies} {
		if err := h.ensureNamespace(ctx, src.c, ns); err != nil {
			return err
		}
	}
	storm := testenv.EventStorm{
		Name: stormName, SourceNamespace: stormSource, SourceLabel: stormClusterLabel,
		CopiesNamespace: stormCopies, CopyLabel: profileLabel, CopyValue: stormCopyLabel,
		Clusters: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{stormClusterLabel: "yes"}}},
	}
	for _, o := range storm.Objects() {
		if err := h.mgmt.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]time.Time{}
	all := make(chan struct{})
	n := h.cfg.stormN
	err := watchLoop(wctx, src.dyn.Resource(gvrConfigMap).Namespace(stormCopies), metav1.ListOptions{LabelSelector: profileLabel + "=" + stormCopyLabel},
		func(typ watch.EventType, u *unstructured.Unstructured, at time.Time) {
			if typ != watch.Added && typ != watch.Modified {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if _, ok := seen[u.GetName()]; ok {
				return
			}
			seen[u.GetName()] = at
			if len(seen) == n {
				close(all)
			}
		})
	if err != nil {
		return err
	}
	logf("event storm: creating %d matching ConfigMaps in %s of %s", n, stormSource, c.name)
	start := time.Now()
	err = testenv.Parallel(ctx, 16, n, func(i int) error {
		return src.c.Create(ctx, storm.Matching(fmt.Sprintf("storm-%04d", i), strconv.Itoa(i)))
	})
	if err != nil {
		return fmt.Errorf("creating the storm's objects: %w", err)
	}
	res := &stormResult{n: n, created: time.Since(start)}
	if err := h.await(ctx, all); err != nil {
		return err
	}
	h.rep.loadAt(fmt.Sprintf("event storm of %d events", n))
	mu.Lock()
	res.copies = len(seen)
	for _, at := range seen {
		d := at.Sub(start)
		if res.first == 0 || d < res.first {
			res.first = d
		}
		res.last = max(res.last, d)
	}
	mu.Unlock()
	logf("event storm: %d of %d copies, the last %s after the first object was created", res.copies, n, ms(res.last))
	h.rep.storm = res
	return nil
}

// restartResult is the in-process manager stopped and a new one started on the same state.
type restartResult struct {
	summaries    int
	ready        time.Duration // new manager started → its caches synced
	resynced     time.Duration // new manager started → every summary reconciled, queue empty; 0 when not
	reconciles   float64       // summary reconciles by the new manager until resynced
	writes       int64         // the new manager's writes to managed clusters (Connection.Writes)
	serverWrites int64         // the managed API servers' count of writes, minus the harness's
	mgmtWrites   int64         // writes to the management cluster (all clients)
}

// restart stops the in-process manager and starts a new one on the converged
// fleet: the time until its caches are synced and until it has reconciled every
// ClusterSummary with its work queue empty, and the writes it sent meanwhile.
func (h *harness) restart(ctx context.Context) error {
	summaries := &metav1.PartialObjectMetadataList{}
	summaries.SetGroupVersionKind(configv1beta1.GroupVersion.WithKind("ClusterSummaryList"))
	if err := h.mgmt.List(ctx, summaries); err != nil {
		return err
	}
	res := &restartResult{summaries: len(summaries.Items)}
	// One manager's memory, read before a second one starts in this process
	// (the stopped manager's caches are not all freed at once): what the RSS
	// target is judged on.
	h.rep.memory(fmt.Sprintf("before the restart: %d clusters, %d ClusterSummaries converged", len(h.clusters), res.summaries), memSnapshot(true))
	h.rep.oneManagerMem = len(h.rep.mem) - 1
	logf("restart: stopping the manager (%d ClusterSummaries)", res.summaries)
	h.stopManager()
	a0, err := h.apiCounters(ctx)
	if err != nil {
		return err
	}
	r0 := summaryReconciles()
	start := time.Now()
	if err := h.startManager(ctx); err != nil {
		return err
	}
	if !h.mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("the new manager's caches never synced")
	}
	res.ready = time.Since(start)
	err = h.waitForEvery(ctx, "the new manager to reconcile every ClusterSummary", h.cfg.timeout, 100*time.Millisecond, func() (bool, error) {
		res.reconciles = summaryReconciles() - r0
		return res.reconciles >= float64(res.summaries) && summaryQueueDepth() == 0, nil
	})
	if err == nil {
		res.resynced = time.Since(start)
	}
	h.rep.loadAt("manager restart")
	time.Sleep(5 * time.Second) // trailing requests
	a1, err := h.apiCounters(ctx)
	if err != nil {
		return err
	}
	res.writes = h.managerWrites(ctx)
	res.serverWrites = managerDelta(a0.servers, a1.servers).writes
	res.mgmtWrites = a1.mgmt.writes - a0.mgmt.writes
	logf("restart: ready after %s, resynced after %s (%.0f reconciles), %d writes to managed clusters (%d by the API servers' count)",
		ms(res.ready), ms(res.resynced), res.reconciles, res.writes, res.serverWrites)
	h.rep.restart = res
	return nil
}

// summaryReconciles is controller-runtime's count of ClusterSummary reconciles
// in this process (every in-process manager's, results of every kind).
func summaryReconciles() float64 {
	return gathered("controller_runtime_reconcile_total", "controller", summaryController)
}

// summaryQueueDepth is the length of the ClusterSummary work queue.
func summaryQueueDepth() float64 {
	return gathered("workqueue_depth", "name", summaryController)
}

// gathered sums the samples of a metric of controller-runtime's registry whose label has the value.
func gathered(metric, label, value string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabel(m, label, value) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// waitForEvery is waitFor polling every interval.
func (h *harness) waitForEvery(ctx context.Context, what string, timeout, interval time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := check()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// procMem is the memory of the processes of one kind this harness started.
type procMem struct {
	name     string
	count    int
	rss, hwm uint64 // summed
	largest  uint64 // the largest RSS
}

// childMemory reads VmRSS and VmHWM of this process's children (etcd, the
// kube-apiservers, manager processes), summed per command name.
func childMemory(when string) serverMemRow {
	row := serverMemRow{when: when}
	byName := map[string]*procMem{}
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		stat := readFile(filepath.Join(d, "stat"))
		// pid (comm) state ppid ...
		end := strings.LastIndexByte(stat, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(stat[end+1:])
		if len(fields) < 2 || fields[1] != self {
			continue
		}
		name := strings.TrimSpace(readFile(filepath.Join(d, "comm")))
		rss, hwm := procStatusOf(filepath.Join(d, "status"), "VmRSS"), procStatusOf(filepath.Join(d, "status"), "VmHWM")
		pm := byName[name]
		if pm == nil {
			pm = &procMem{name: name}
			byName[name] = pm
			row.procs = append(row.procs, pm)
		}
		pm.count++
		pm.rss += rss
		pm.hwm += hwm
		pm.largest = max(pm.largest, rss)
	}
	return row
}

// serverMemRow is the children's memory at one moment.
type serverMemRow struct {
	when  string
	procs []*procMem
}
