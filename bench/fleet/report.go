package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

const (
	analysisBegin = "<!-- analysis:begin (kept when make bench rewrites this file) -->"
	analysisEnd   = "<!-- analysis:end -->"
)

type steady struct {
	window                      time.Duration
	writes, serverWrites, reads float64 // per minute, to managed clusters
	watches                     int64
	mgmtWrites, mgmtReads       float64
	mgmtWatches                 int64
}

type memRow struct {
	when string
	m    memStats
}

type report struct {
	cfg           config
	started       time.Time
	loadStart     string
	loadEnd       string
	kubeVer       string
	setup         []string
	notes         []string
	rollouts      []*rollout
	drift         map[string]*dist
	driftClusters int
	driftScope    string
	driftOrder    []string

	eventsSetup   string
	eventsPending string
	eventCreate   *dist
	eventUpdate   *dist

	withdrawals []string
	baselines   []*baseline
	deletions   []deletion

	gitops *gitopsResult

	cloudEvents *cloudEventsResult

	dashboard *dashboardResult

	steady *steady
	mem    []memRow
	// oneManagerMem, when positive, is the index in mem of the last reading
	// taken while one manager ran in the process (before the restart phase).
	oneManagerMem int

	// Issue 18's scale phases and the sharded run.
	loads     []loadRow
	driftAll  *driftResult
	storm     *stormResult
	restart   *restartResult
	sharded   *shardedResult
	serverMem []serverMemRow
}

// deletion is one fan-out profile deleted on its own, beside its baseline.
type deletion struct {
	n    int
	took time.Duration // until its last summary was gone; 0 when they did not go
	base *baseline
}

// baselineFor returns the baseline measured for n clusters, or nil.
func (r *report) baselineFor(n int) *baseline {
	for _, b := range r.baselines {
		if b.n == n {
			return b
		}
	}
	return nil
}

func newReport(cfg config) *report { return &report{cfg: cfg, started: time.Now()} }

func (r *report) setupf(format string, args ...any) {
	r.setup = append(r.setup, fmt.Sprintf(format, args...))
}
func (r *report) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}
func (r *report) memory(when string, m memStats) { r.mem = append(r.mem, memRow{when, m}) }

// machine records the load average (first and last call) and the API server version.
func (r *report) machine(ctx context.Context, cs kubernetes.Interface) {
	load := strings.TrimSpace(readFile("/proc/loadavg"))
	if r.loadStart == "" {
		r.loadStart = load
	} else {
		r.loadEnd = load
	}
	if cs != nil {
		if v, err := cs.Discovery().ServerVersion(); err == nil {
			r.kubeVer = v.GitVersion
		}
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func cpuModel() string {
	for _, line := range strings.Split(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	for _, line := range strings.Split(readFile("/proc/meminfo"), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func gitDescribe() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", "internal", "api", "cmd").Output(); err == nil && len(st) > 0 {
		rev += " + uncommitted changes of other engineers in internal/, api/ or cmd/ (shared checkout)"
	}
	return rev
}

func verdict(ok bool) string {
	if ok {
		return "✅ met"
	}
	return "❌ not met"
}

func (r *report) rollout(what string, n int) *rollout {
	for _, ro := range r.rollouts {
		if strings.HasPrefix(ro.what, what) && ro.n == n {
			return ro
		}
	}
	return nil
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Tugboat benchmark results")
	p("")
	p("Written by `make bench` (bench/fleet, issue 9) on %s. Everything below the analysis is regenerated on every run;", r.started.UTC().Format("2006-01-02 15:04 MST"))
	p("the analysis section is kept between runs and refers to the run it names.")
	p("")
	p("**Command:** `make bench`, which runs")
	p("")
	p("```")
	p("go test -run '^$' -bench . -benchmem ./bench/ | tee bench/out/gobench.txt")
	p("%s", r.cfg.command)
	p("```")
	p("")
	p("## Machine")
	p("")
	p("| | |")
	p("| --- | --- |")
	p("| CPUs (nproc) | %d |", runtime.NumCPU())
	p("| CPU model | %s |", cpuModel())
	p("| memory | %s |", memTotal())
	p("| Go | %s %s/%s |", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	p("| kube-apiserver | %s (built from k8s.io/kubernetes by hack/test-binaries.sh), etcd from Debian |", r.kubeVer)
	p("| tree | %s |", gitDescribe())
	p("| load average at start / end | %s / %s |", r.loadStart, r.loadEnd)
	p("")
	p("The machine is shared: other engineers build and test on the same 2 cores during the run, and the")
	p("API servers, etcd and the manager compete for them too. Numbers are upper bounds of what an idle machine gives.")
	p("")
	p("## Setup")
	p("")
	r.setupList(p,
		fmt.Sprintf("every profile templates the target namespace from the cluster name (`{{ .Cluster.metadata.name }}`, policy ConfigMap annotated `projectsveltos.io/template`), so the %d registrations of one API server never collide", r.cfg.perServer),
		fmt.Sprintf("fan-out objects (K=%d per profile): per 10 objects 5 ConfigMaps, 2 Secrets, 1 ServiceAccount, 1 headless Service, 1 Deployment", r.cfg.objects),
		"times are measured by the harness from the moment it sends the triggering request until its own watch (no polling) delivers the awaited event; \"converged\" also requires the ClusterSummary status Resources=Provisioned")
	r.targets(p)
	r.analysis(p)

	p("## 1. Event → deploy latency")
	p("")
	switch {
	case r.eventsPending != "":
		p("**Pending:** %s.", r.eventsPending)
	case !r.cfg.on("events"):
		p("Not run (-phases).")
	case r.eventCreate == nil:
		p("Not measured (the run stopped before this phase).")
	default:
		p("%s. Time from creating (or changing) the source Secret in the services cluster until `pg-credentials` is", r.eventsSetup)
		p("readable in the management cluster. One untimed warm-up event first.")
		p("")
		p("| event | n | p50 | p90 | p99 | max | timed out |")
		p("| --- | --- | --- | --- | --- | --- | --- |")
		p("| new Secret (new namespace) → generated profile → pg-credentials created | %s |", r.eventCreate.row())
		if r.eventUpdate != nil {
			p("| Secret password rotated → pg-credentials updated | %s |", r.eventUpdate.row())
		}
	}
	p("")
	p("## 2. Drift correction latency")
	p("")
	if !r.cfg.on("drift") {
		p("Not run (-phases).")
	} else if r.drift == nil {
		p("Not measured (the run stopped before this phase).")
	} else {
		p("Profile `drift` (syncMode ContinuousWithDriftDetection, a ConfigMap and a Deployment) on %d clusters (%s);", r.driftClusters, r.driftScope)
		p("a change made directly in a managed API server, timed from sending the change until the harness's watch sees the object restored.")
		p("")
		p("| change | n | p50 | p90 | p99 | max | not restored in 30 s |")
		p("| --- | --- | --- | --- | --- | --- | --- |")
		var all dist
		for _, k := range r.driftOrder {
			d := r.drift[k]
			p("| %s | %s |", k, d.row())
			all.samples = append(all.samples, d.samples...)
			all.failures += d.failures
		}
		p("| **all** | %s |", all.row())
	}
	p("")
	p("## 3. Fan-out convergence")
	p("")
	p("\"converged\": from the triggering request until the last cluster has its ClusterSummary Provisioned and every")
	p("object exists. Per-cluster quantiles: the same, per cluster. Label change: the profile exists first; the harness")
	p("then writes the selecting label on all N SveltosClusters (16 writers; \"labels written\" is when the last write returned).")
	p("")
	p("Baseline: the harness itself applies the same K objects, rendered for each of the N clusters, with plain")
	p("server-side apply to the same API servers in the same run (as many clusters at a time as the manager has")
	p("workers, each cluster's objects in order, the namespace made sure of first; no Tugboat). It is what these API")
	p("servers on this machine take at all; \"× baseline\" is Tugboat's converged time over it.")
	p("")
	r.rolloutTables(p, "Withdrawals between the phases (each label-change phase starts from clusters without summaries):")
	p("")
	p("## 4. API cost on the managed clusters")
	p("")
	p("Writes: `Connection.Writes()` summed over every managed connection of the registry (the manager's own count).")
	p("Reads: GET+LIST from `apiserver_request_total` of the managed API servers, minus the harness's own requests (counted")
	p("by the harness's transport); non-resource requests (`/version` probes, `/metrics`) and Leases (each kube-apiserver")
	p("renews its own identity Lease every 10 s over loopback) are left out.")
	p("")
	apiCostTable(p, r.rollouts)
	p("Writes per object on a first deploy include one namespace creation per cluster that did not have the namespace yet.")
	p("")
	r.steadyTable(p)
	p("")
	p("## 5. Manager memory")
	p("")
	p("The manager runs in the harness process; the harness keeps no caches (plain clients, cache-less watches), so the")
	p("figures are the manager's plus a few MiB of harness. Heap after a forced GC; RSS and its high-water mark from /proc/self/status.")
	p("")
	r.memoryTable(p)
	r.gitopsSection(p)
	r.cloudEventsSection(p)
	r.dashboardSection(p)
	r.scalePhasesSection(p)
	r.gobench(p)
	r.cpuProfile(p)
	return b.String()
}

// rolloutTable is the fan-out convergence table of rollouts.
func (r *report) rolloutTable(p func(string, ...any), rollouts []*rollout) {
	p("| rollout | N clusters | K objects | converged | baseline (plain SSA) | × baseline | per-cluster p50 | p90 | p99 | labels written | incomplete |")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, ro := range rollouts {
		conv := "—"
		if ro.incomplete == 0 {
			conv = ms(ro.converged)
		}
		lab := "—"
		if ro.isLabel {
			lab = ms(ro.labelled)
		}
		base, x := "—", "—"
		if b := r.baselineFor(ro.n); b != nil && ro.k == b.k {
			base, x = ms(b.apply), ratio(ro.converged, b.apply)
		}
		d := &ro.perCluster
		p("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %d |", ro.what, ro.n, ro.k, conv, base, x, ms(d.quantile(.5)), ms(d.quantile(.9)), ms(d.quantile(.99)), lab, ro.incomplete)
	}
}

// deletionTable is the profile deletion table (nothing without deletions).
func (r *report) deletionTable(p func(string, ...any)) {
	if len(r.deletions) > 0 {
		p("")
		p("Profile deletion: one fan-out ClusterProfile deleted at a time, timed until its last ClusterSummary is gone")
		p("(the harness watches the summaries; a summary goes once its objects are withdrawn), beside the harness deleting its baseline's")
		p("objects with one DELETE each, as many clusters at a time as the manager has workers.")
		p("")
		p("| profile deleted | N clusters | objects | withdrawn | baseline (plain DELETE) | × baseline |")
		p("| --- | --- | --- | --- | --- | --- |")
		for _, d := range r.deletions {
			took := "did not finish"
			if d.took > 0 {
				took = ms(d.took)
			}
			p("| fan-n%d | %d | %d | %s | %s | %s |", d.n, d.n, d.n*d.base.k, took, ms(d.base.delete), ratio(d.took, d.base.delete))
		}
	}
}

// apiCostTable is the table of requests to the managed clusters per rollout.
func apiCostTable(p func(string, ...any), rollouts []*rollout) {
	p("| rollout | N | objects deployed | writes | writes / object | of which DELETE (API servers) | writes excl. DELETE / object | reads | reads / object |")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, ro := range rollouts {
		objs := float64(max(ro.n*ro.k, 1))
		p("| %s | %d | %d | %d | %.2f | %d | %.2f | %d | %.2f |", ro.what, ro.n, ro.n*ro.k, ro.writes, float64(ro.writes)/objs,
			ro.deletes, float64(ro.writes-ro.deletes)/objs, ro.reads, float64(ro.reads)/objs)
	}
	p("")
}

// steadyTable is the steady state's requests.
func (r *report) steadyTable(p func(string, ...any)) {
	if s := r.steady; s != nil {
		p("Steady state, nothing changing, counted over %s after everything above converged:", s.window)
		p("")
		p("| | per minute |")
		p("| --- | --- |")
		p("| **writes to managed clusters** (Connection.Writes) | **%.1f** |", s.writes)
		p("| writes to managed clusters (API servers' count) | %.1f |", s.serverWrites)
		p("| reads (GET/LIST) of managed clusters | %.1f |", s.reads)
		p("| writes to the management cluster (status, events; all clients) | %.1f |", s.mgmtWrites)
		p("| reads of the management cluster | %.1f |", s.mgmtReads)
		p("")
		p("Watches held open: %d on the managed API servers, %d on the management API server.", s.watches, s.mgmtWatches)
	} else {
		p("Steady state: not measured (the run stopped before this phase).")
	}
}

// memoryTable is the manager's memory at the moments recorded, per cluster beside.
func (r *report) memoryTable(p func(string, ...any)) {
	p("| moment | Go heap (alloc) | heap in use | Go runtime Sys | RSS | RSS peak | goroutines |")
	p("| --- | --- | --- | --- | --- | --- | --- |")
	for _, m := range r.mem {
		p("| %s | %s | %s | %s | %s | %s | %d |", m.when, mib(m.m.heapAlloc), mib(m.m.heapInuse), mib(m.m.sys), mib(m.m.rss), mib(m.m.hwm), m.m.goroutines)
	}
	p("")
	if n := r.cfg.servers * r.cfg.perServer; len(r.mem) > 1 && n > 0 {
		first, last := r.mem[0].m, r.mem[len(r.mem)-1].m
		p("Per cluster at %d clusters (the last row over %d): Go heap %s (in use %s), RSS %s; above the harness alone (first row): heap %s (in use %s), RSS %s.",
			n, n, kib(last.heapAlloc/uint64(n)), kib(last.heapInuse/uint64(n)), kib(last.rss/uint64(n)),
			kib((last.heapAlloc-min(first.heapAlloc, last.heapAlloc))/uint64(n)),
			kib((last.heapInuse-min(first.heapInuse, last.heapInuse))/uint64(n)),
			kib((last.rss-min(first.rss, last.rss))/uint64(n)))
		p("")
	}
}

// gitopsTarget is the target for Tugboat's part of a git push reaching the clusters.
const gitopsTarget = 300 * time.Millisecond

func (r *report) gitopsSection(p func(string, ...any)) {
	g := r.gitops
	n := r.cfg.gitopsClusters
	if g != nil {
		n = g.n
	}
	p("## 6. GitOps: git push → %d clusters", n)
	p("")
	if !r.cfg.on("gitops") {
		p("Not run (-phases / -gitops 0).")
		p("")
		return
	}
	if g == nil || g.samples == 0 {
		p("Not measured (the run stopped before this phase).")
		p("")
		return
	}
	p("A GitRepository `%s/%s` (interval 10m, branch main) over the loopback Git server, read by Flux's real", gitopsRef.Namespace, gitopsRef.Name)
	p("source-controller; ClusterProfile `%s` with `policyRefs: [{kind: GitRepository, path: deploy}]` selecting %d clusters;", gitopsProfile, g.n)
	p("deploy/ holds %d objects (2 ConfigMaps, a ServiceAccount, a Deployment; namespace templated from the cluster) and a README.", g.k)
	p("Each sample commits a change of one value (`data.release` of ConfigMap `%s`), pushes it with the git CLI, then", gitopsChanged)
	p("requests a reconcile of the GitRepository (`reconcile.fluxcd.io/requestedAt`, as a Git webhook receiver does; the")
	p("10-minute interval never fires during the run). The harness watches the GitRepository (status.artifact.revision)")
	p("and the ConfigMap in every managed API server; nothing is polled.")
	p("")
	p("| part | n | p50 | p90 | max | timed out |")
	p("| --- | --- | --- | --- | --- | --- |")
	p("| git commit + push (CLI, loopback) | %s |", g.push.row3())
	p("| **source-controller**: reconcile request → artifact revision names the commit | %s |", g.source.row3())
	p("| **Tugboat**: new artifact → value in all %d clusters | %s |", g.n, g.tugboat.row3())
	p("| Tugboat, per cluster: new artifact → value in that cluster | %s |", g.perCluster.row3())
	p("| **total**: push started → value in all %d clusters | %s |", g.n, g.total.row3())
	p("")
	pushes := float64(max(g.samples, 1))
	per := pushes * float64(max(g.n, 1))
	p("Requests over the %d pushes (counted as in section 4, trailing 2 s included):", g.samples)
	p("")
	p("| | total | per push | per cluster per push |")
	p("| --- | --- | --- | --- |")
	p("| writes to managed clusters (Connection.Writes) | %d | %.1f | %.2f |", g.writes, float64(g.writes)/pushes, float64(g.writes)/per)
	p("| writes to managed clusters (API servers' count) | %d | %.1f | %.2f |", g.serverW, float64(g.serverW)/pushes, float64(g.serverW)/per)
	p("| reads (GET/LIST) of managed clusters | %d | %.1f | %.2f |", g.reads, float64(g.reads)/pushes, float64(g.reads)/per)
	p("| writes to the management cluster (all clients: source-controller, manager, the harness's reconcile request) | %d | %.1f | – |", g.mgmtWrites, float64(g.mgmtWrites)/pushes)
	p("| HTTP requests to the Git repository (source-controller's fetches and the harness's pushes) | %d | %.1f | – |", g.gitRequests, float64(g.gitRequests)/pushes)
	p("")
	p("After the last push, %d of %d ClusterSummaries record its commit in status.featureSummaries[].sourceRevisions.", g.recorded, g.n)
	p("")
}

func (r *report) targets(p func(string, ...any)) {
	p("## Targets (issue 9) and where we stand")
	p("")
	p("| target | measured | |")
	p("| --- | --- | --- |")
	if r.eventCreate != nil && len(r.eventCreate.samples) > 0 {
		v := r.eventCreate.quantile(.99)
		p("| event → deploy p99 < 300 ms | %s | %s |", ms(v), verdict(v < 300*time.Millisecond && r.eventCreate.failures == 0))
	} else {
		p("| event → deploy p99 < 300 ms | pending | – |")
	}
	if r.drift != nil {
		var all dist
		for _, d := range r.drift {
			all.samples = append(all.samples, d.samples...)
			all.failures += d.failures
		}
		v := all.quantile(.99)
		p("| drift restore p99 < 300 ms | %s | %s |", ms(v), verdict(len(all.samples) > 0 && all.failures == 0 && v < 300*time.Millisecond))
	}
	small := r.cfg.sizes[0]
	if ro := r.rollout("fan-out", small); ro != nil {
		p("| profile of %d objects to %d clusters < 500 ms (reference: 12.5 s to 2 clusters) | %s | %s |", ro.k, ro.n, convStr(ro), verdict(ro.incomplete == 0 && ro.converged < 500*time.Millisecond))
	}
	if ro := r.rollout("label change", small); ro != nil {
		p("| label change → add-ons on %d clusters < 500 ms (reference: 11 s) | %s | %s |", ro.n, convStr(ro), verdict(ro.incomplete == 0 && ro.converged < 500*time.Millisecond))
	}
	big := r.cfg.sizes[len(r.cfg.sizes)-1]
	if ro := r.rollout("fan-out", big); ro != nil {
		p("| %d clusters converged < 10 s | %s | %s |", ro.n, convStr(ro), verdict(ro.incomplete == 0 && ro.converged < 10*time.Second))
	}
	if ro := r.rollout("label change", big); ro != nil {
		p("| label change on %d clusters converged < 10 s | %s | %s |", ro.n, convStr(ro), verdict(ro.incomplete == 0 && ro.converged < 10*time.Second))
	}
	if g := r.gitops; g != nil && len(g.tugboat.samples) > 0 {
		v := g.tugboat.quantile(.9)
		p("| GitOps push → %d clusters, Tugboat's part (new artifact → all clusters) p90 < 300 ms | p90 %s, max %s (source-controller p90 %s, total p90 %s) | %s |",
			g.n, ms(v), ms(g.tugboat.max()), ms(g.source.quantile(.9)), ms(g.total.quantile(.9)), verdict(v < gitopsTarget && g.tugboat.failures == 0))
	} else if r.cfg.on("gitops") {
		p("| GitOps push → %d clusters, Tugboat's part p90 < 300 ms | pending | – |", r.cfg.gitopsClusters)
	}
	if c := r.cloudEvents; c != nil && len(c.modes["http"].deploy.samples) > 0 {
		d := c.modes["http"].deploy
		v := d.quantile(.99)
		p("| CloudEvent over HTTP → generated profile deployed p99 < 300 ms (issue 16) | %s (Kubernetes-event baseline %s) | %s |", ms(v),
			ms(c.modes["kubernetes"].deploy.quantile(.99)), verdict(v < 300*time.Millisecond && d.failures == 0))
	}
	if len(r.mem) > 0 {
		m := r.mem[len(r.mem)-1].m
		p("| manager < 300 MiB at %d clusters (RSS; heap) | %s; %s | %s |", r.cfg.servers*r.cfg.perServer, mib(m.rss), mib(m.heapAlloc), verdict(m.rss < 300<<20))
	}
	if r.steady != nil {
		p("| zero writes at steady state | %.1f writes/min | %s |", r.steady.writes, verdict(r.steady.writes == 0 && r.steady.serverWrites == 0))
	}
	r.issue18Rows(p)
	p("")
}

// besideBaseline is " (baseline B, R×)" for n clusters, or "" without a baseline.
func (r *report) besideBaseline(n int, measured time.Duration, deleting bool) string {
	b := r.baselineFor(n)
	if b == nil {
		return ""
	}
	base := b.apply
	if deleting {
		base = b.delete
	}
	return fmt.Sprintf(" (baseline %s, %s)", ms(base), ratio(measured, base))
}

func convStr(ro *rollout) string {
	if ro.incomplete > 0 {
		return fmt.Sprintf("incomplete (%d of %d clusters)", ro.n-ro.incomplete, ro.n)
	}
	return ms(ro.converged)
}

// analysis copies the hand-written analysis of the previous RESULTS.md.
func (r *report) analysis(p func(string, ...any)) {
	p("## Analysis")
	p("")
	p("%s", analysisBegin)
	prev := readFile(r.cfg.out)
	kept := ""
	if i := strings.Index(prev, analysisBegin); i >= 0 {
		rest := prev[i+len(analysisBegin):]
		if j := strings.Index(rest, analysisEnd); j >= 0 {
			kept = strings.Trim(rest[:j], "\n")
			p("%s", kept)
		}
	} else {
		p("_(no analysis written yet)_")
	}
	p("%s", analysisEnd)
	p("")
	// A prompt for whoever updates the analysis: phases it does not discuss yet.
	if r.cfg.on("gitops") && !strings.Contains(kept, "GitOps") {
		p("_To analyse: the GitOps phase (section 6: git push → source-controller → Tugboat → %d clusters; target: Tugboat's part p90 < 300 ms) is newer than the analysis above. Discuss the split between source-controller and Tugboat, the per-cluster spread, and the requests per cluster per push (how many objects are re-applied when one file changes)._", r.cfg.gitopsClusters)
		p("")
	}
}

func (r *report) gobench(p func(string, ...any)) {
	p("## Go benchmarks of the hot pure functions")
	p("")
	raw := readFile(r.cfg.gobench)
	if r.cfg.gobench == "" || raw == "" {
		p("Not run (no -gobench file).")
		p("")
		return
	}
	p("`go test -run '^$' -bench . -benchmem ./bench/` (bench/*_test.go):")
	p("")
	p("| benchmark | ns/op | B/op | allocs/op |")
	p("| --- | --- | --- | --- |")
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		vals := map[string]string{}
		for i := 2; i+1 < len(f); i += 2 {
			vals[f[i+1]] = f[i]
		}
		p("| %s | %s | %s | %s |", f[0], vals["ns/op"], vals["B/op"], vals["allocs/op"])
	}
	p("")
	p("<details><summary>raw output</summary>")
	p("")
	p("```")
	p("%s", strings.TrimRight(raw, "\n"))
	p("```")
	p("</details>")
	p("")
}

func (r *report) cpuProfile(p func(string, ...any)) {
	if r.cfg.cpuprofile == "" {
		return
	}
	p("## CPU profile of the manager during the largest fan-out")
	p("")
	p("`runtime/pprof` in-process from the creation of profile `fan-n%d` until convergence (the API servers and etcd", r.cfg.sizes[len(r.cfg.sizes)-1])
	p("are other processes and not in it). Regenerate the views with `go tool pprof -top %s`.", r.cfg.cpuprofile)
	p("")
	for _, view := range [][]string{{"-top", "-nodecount=25"}, {"-top", "-cum", "-nodecount=40"}} {
		args := append([]string{"tool", "pprof"}, view...)
		args = append(args, r.cfg.cpuprofile)
		p("`go %s`:", strings.Join(args, " "))
		p("")
		goToolBlock(p, args)
	}
}

// sectionMarkdown is one phase's section alone.
func (r *report) sectionMarkdown(phase string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	switch phase {
	case "cloudevents":
		r.cloudEventsSection(p)
	case largeSection:
		r.largeMarkdown(p)
	}
	return b.String()
}

// spliceSection puts section (a "## N. …" heading and its text) into the
// report prev: in place of the section with the same number, else before the
// Go benchmarks, else at the end.
func spliceSection(prev, section string) (string, error) {
	heading, _, _ := strings.Cut(section, "\n")
	num, _, ok := strings.Cut(strings.TrimPrefix(heading, "## "), " ")
	if !ok || !strings.HasPrefix(heading, "## ") {
		return "", fmt.Errorf("section without a heading: %q", heading)
	}
	if prev == "" {
		return "", fmt.Errorf("-section needs an existing -out file to write into")
	}
	if i := strings.Index(prev, "\n## "+num+" "); i >= 0 {
		rest := prev[i+1:]
		end := len(rest)
		if j := strings.Index(rest[3:], "\n## "); j >= 0 {
			end = j + 3 + 1
		}
		return prev[:i+1] + section + rest[end:], nil
	}
	if i := strings.Index(prev, "\n## Go benchmarks"); i >= 0 {
		return prev[:i+1] + section + prev[i+1:], nil
	}
	return strings.TrimRight(prev, "\n") + "\n\n" + section, nil
}

func writeReport(path, md string) error {
	return os.WriteFile(path, []byte(md), 0o644)
}

// goToolBlock runs `go args...` (a pprof view) and writes its output as a code
// block followed by a blank line; a failure is written inside the block.
func goToolBlock(p func(string, ...any), args []string) {
	out, err := exec.Command("go", args...).CombinedOutput()
	p("```")
	if err != nil {
		p("(failed: %v)", err)
	}
	p("%s", strings.TrimRight(string(out), "\n"))
	p("```")
	p("")
}

// setupList writes the setup of the run as a list: the phases' setup lines,
// then about (what this report adds on how the run was made), then the notes.
func (r *report) setupList(p func(string, ...any), about ...string) {
	for _, s := range r.setup {
		p("- %s", s)
	}
	for _, s := range about {
		p("- %s", s)
	}
	for _, n := range r.notes {
		p("- %s", n)
	}
	p("")
}

// rolloutTables prints the rollout and deletion tables, then the withdrawals
// between the phases as a list, under intro when it is not empty.
func (r *report) rolloutTables(p func(string, ...any), intro string) {
	r.rolloutTable(p, r.rollouts)
	r.deletionTable(p)
	if len(r.withdrawals) == 0 {
		return
	}
	p("")
	if intro != "" {
		p("%s", intro)
		p("")
	}
	for _, w := range r.withdrawals {
		p("- %s", w)
	}
}
