package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// The report of issue 18's phases: the rows of its targets, the scale phases'
// section of make bench (section 8) and the large-fleet section make
// bench-large writes into RESULTS.md alone (section 9, -section large).

const (
	// largeSection is the -section value of make bench-large.
	largeSection = "large"
	// largeSectionNumber is the number of its heading ("## 9. …").
	largeSectionNumber = "9."

	largeAnalysisBegin = "<!-- large-analysis:begin (kept when make bench-large rewrites this section) -->"
	largeAnalysisEnd   = "<!-- large-analysis:end -->"
)

// Issue 18's targets.
const (
	targetSmallFanout   = 300 * time.Millisecond // a new profile to 10 clusters
	targetFanout200     = 5 * time.Second        // 200 clusters × 10 objects
	targetDeletion200   = 5 * time.Second        // a profile's deletion withdrawn from 200 clusters
	targetFanout1000    = 25 * time.Second       // 1,000 clusters
	targetRestartReady  = 20 * time.Second       // a restarted manager with 1,000 clusters ready
	targetRSS1000       = 600 << 20              // RSS at 1,000 clusters
	largeFleet          = 1000
	smallFanoutClusters = 10
)

// loadRow is the load average when a phase ended.
type loadRow struct{ what, load string }

// loadAt records the load average as a phase ends.
func (r *report) loadAt(what string) {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) >= 3 {
		r.loads = append(r.loads, loadRow{what: what, load: strings.Join(f[:3], " ")})
	}
}

func (r *report) deletionFor(n int) *deletion {
	for i := range r.deletions {
		if r.deletions[i].n == n {
			return &r.deletions[i]
		}
	}
	return nil
}

// issue18Rows are the rows of issue 18's targets this run measured, each with
// the baseline of the same run beside it where there is one.
func (r *report) issue18Rows(p func(string, ...any)) {
	if ro := r.rollout("fan-out", smallFanoutClusters); ro != nil {
		p("| (issue 18) a new profile to %d clusters < 300 ms | %s%s | %s |", ro.n, convStr(ro), r.besideBaseline(ro.n, ro.converged, false),
			verdict(ro.incomplete == 0 && ro.converged < targetSmallFanout))
	}
	if ro := r.rollout("fan-out", 200); ro != nil {
		p("| (issue 18) 200 clusters × %d objects < 5 s | %s%s | %s |", ro.k, convStr(ro), r.besideBaseline(ro.n, ro.converged, false),
			verdict(ro.incomplete == 0 && ro.converged < targetFanout200))
	}
	if d := r.deletionFor(200); d != nil {
		p("| (issue 18) profile deletion withdrawn from 200 clusters < 5 s | %s%s | %s |", tookStr(d.took), r.besideBaseline(d.n, d.took, true),
			verdict(d.took > 0 && d.took < targetDeletion200))
	}
	if ro := r.rollout("fan-out", largeFleet); ro != nil {
		p("| (issue 18) 1,000 clusters × %d objects < 25 s | %s%s | %s |", ro.k, convStr(ro), r.besideBaseline(ro.n, ro.converged, false),
			verdict(ro.incomplete == 0 && ro.converged < targetFanout1000))
		if d := r.deletionFor(largeFleet); d != nil {
			p("| (issue 18) withdrawal as fast as deployment: profile deletion from 1,000 clusters ≤ its fan-out (%s) | %s%s | %s |", convStr(ro),
				tookStr(d.took), r.besideBaseline(d.n, d.took, true), verdict(d.took > 0 && ro.incomplete == 0 && d.took <= ro.converged))
		}
	}
	if r.steady != nil {
		p("| (issue 18) steady state: 0 writes (over %s) | %.1f writes/min to managed clusters (%.1f by the API servers' count); no baseline | %s |",
			r.steady.window, r.steady.writes, r.steady.serverWrites, verdict(r.steady.writes == 0 && r.steady.serverWrites == 0))
	}
	if rs := r.restart; rs != nil {
		resynced := "did not resync"
		if rs.resynced > 0 {
			resynced = "resynced " + ms(rs.resynced)
		}
		p("| (issue 18) restart of a manager with %d clusters (%d summaries) converged → 0 writes and ready < 20 s | ready %s, %s, %d writes (%d by the API servers' count); no baseline | %s |",
			r.cfg.servers*r.cfg.perServer, rs.summaries, ms(rs.ready), resynced, rs.writes, rs.serverWrites,
			verdict(rs.writes == 0 && rs.serverWrites == 0 && rs.resynced > 0 && rs.resynced < targetRestartReady))
	}
	if n := r.cfg.servers * r.cfg.perServer; len(r.mem) > 0 {
		row := r.mem[len(r.mem)-1]
		if r.oneManagerMem > 0 {
			row = r.mem[r.oneManagerMem]
		}
		m := row.m
		target := "(issue 18) RSS < 600 MiB at 1,000 clusters (one in-process manager, read " + row.when + ")"
		ok := verdictAt(n >= largeFleet, m.rss < targetRSS1000)
		if n < largeFleet {
			target = fmt.Sprintf("(issue 18) RSS at %d clusters (the target is < 600 MiB at 1,000; make bench-large)", n)
		}
		p("| %s | %s RSS, %s Go heap (%s and %s per cluster); no baseline | %s |", target, mib(m.rss), mib(m.heapAlloc),
			kib(m.rss/uint64(max(n, 1))), kib(m.heapAlloc/uint64(max(n, 1))), ok)
	}
	if s := r.sharded; s != nil && s.fanout != nil && s.fanoutBase != nil {
		p("| (issue 18) %d clusters across %d shard managers: fan-out of %d objects (no numeric target) | %s (baseline %s, %s) | – |",
			s.fanout.n, s.shards, s.k, convStr(s.fanout), ms(s.fanoutBase.apply), ratio(s.fanout.converged, s.fanoutBase.apply))
		if peak, n, ok := s.peakRSS(); ok {
			p("| (issue 18) RSS < 600 MiB per manager at 1,000 clusters: the largest shard manager (%d clusters each, cmd/manager processes) | %s RSS (%s per cluster); no baseline | %s |",
				s.perShard, mib(peak), kib(peak/uint64(max(s.perShard, 1))), verdictAt(n >= largeFleet, peak < targetRSS1000))
		}
		if s.withdrawn > 0 || s.mem != nil {
			p("| (issue 18) %d clusters across %d shard managers: profile deletion (no numeric target) | %s (baseline %s, %s) | – |",
				s.fanout.n, s.shards, tookStr(s.withdrawn), ms(s.fanoutBase.delete), ratio(s.withdrawn, s.fanoutBase.delete))
		}
	}
}

// notMeasured says why a phase has no result: not asked for, or the run stopped before it.
func notMeasured(asked bool) string {
	if asked {
		return "Not measured (the run stopped before this phase)."
	}
	return "Not run (-phases)."
}

func tookStr(d time.Duration) string {
	if d <= 0 {
		return "did not finish"
	}
	return ms(d)
}

// scalePhasesSection is make bench's section 8.
func (r *report) scalePhasesSection(p func(string, ...any)) {
	p("## 8. Scale phases (issue 18): drift on every cluster, event storm, manager restart")
	p("")
	p("The content change is a row of sections 3 and 4 (the label phase's largest profile gets a new revision label on")
	p("every object; converged when every cluster has every object at the new revision).")
	p("")
	r.scalePhases(p, "###")
}

// scalePhases are the tables of the drift-everywhere, storm and restart phases,
// the memory of the API servers and etcd, and the load average per phase.
func (r *report) scalePhases(p func(string, ...any), h string) {
	p("%s Drift on every cluster at once", h)
	p("")
	if d := r.driftAll; d != nil {
		p("`drift-cm` (of the ContinuousWithDriftDetection profile `drift`) changed in each of %d clusters by 16 writers;", d.n)
		p("timed from the first change sent until the harness's watches saw every one restored (per cluster: its change sent → restored).")
		p("")
		p("| clusters | changes sent in | all restored | per-cluster p50 | p90 | p99 | max | not restored | manager writes |")
		p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
		p("| %d | %s | %s | %s | %s | %s | %s | %d | %d |", d.n, ms(d.sent), tookStr(d.restored), ms(d.perCluster.quantile(.5)),
			ms(d.perCluster.quantile(.9)), ms(d.perCluster.quantile(.99)), ms(d.perCluster.max()), d.perCluster.failures, d.writes)
	} else {
		p("Not run (needs -drift-all).")
	}
	p("")
	p("%s Event storm", h)
	p("")
	if s := r.storm; s != nil {
		p("%d ConfigMaps matching an EventSource created at once (16 writers) in one source cluster; the EventTrigger", s.n)
		p("(oneForEvent) generates one ClusterProfile per object, each deploying a copy of it back into that cluster.")
		p("Timed from the first creation until the harness's watch saw every copy.")
		p("")
		p("| events | created in | first copy | all copies | copies seen | events per second (end to end) |")
		p("| --- | --- | --- | --- | --- | --- |")
		rate := "–"
		if s.copies == s.n && s.last > 0 {
			rate = fmt.Sprintf("%.0f", float64(s.n)/s.last.Seconds())
		}
		p("| %d | %s | %s | %s | %d | %s |", s.n, ms(s.created), ms(s.first), ms(s.last), s.copies, rate)
	} else {
		p("%s", notMeasured(r.cfg.on("storm")))
	}
	p("")
	p("%s Manager restart", h)
	p("")
	if rs := r.restart; rs != nil {
		p("The in-process manager stopped after everything above converged and a new one started on the same state (a new")
		p("registry, new connections, new caches). Ready: its caches synced. Resynced: controller-runtime's count of")
		p("ClusterSummary reconciles grew by the number of summaries and the summary work queue was empty. Writes counted")
		p("until 5 s after that.")
		p("")
		p("| ClusterSummaries | ready | resynced | summary reconciles | writes to managed clusters (Connection.Writes) | (API servers' count) | writes to the management cluster |")
		p("| --- | --- | --- | --- | --- | --- | --- |")
		p("| %d | %s | %s | %.0f | %d | %d | %d |", rs.summaries, ms(rs.ready), tookStr(rs.resynced), rs.reconciles, rs.writes, rs.serverWrites, rs.mgmtWrites)
	} else {
		p("%s", notMeasured(r.cfg.on("restart")))
	}
	p("")
	if len(r.serverMem) > 0 {
		p("%s Memory of the API servers and etcd", h)
		p("")
		p("VmRSS of the harness's child processes from /proc/<pid>/status, summed per command (the managed API servers share one etcd).")
		p("")
		p("| moment | process | count | RSS (sum) | RSS peak (sum) | largest RSS |")
		p("| --- | --- | --- | --- | --- | --- |")
		for _, row := range r.serverMem {
			for _, pm := range row.procs {
				p("| %s | %s | %d | %s | %s | %s |", row.when, pm.name, pm.count, mib(pm.rss), mib(pm.hwm), mib(pm.largest))
			}
		}
		p("")
	}
	if len(r.loads) > 0 {
		p("%s Load average as each phase ended", h)
		p("")
		p("1, 5 and 15-minute load averages of the machine (%d CPUs) from /proc/loadavg.", runtime.NumCPU())
		p("")
		p("| phase | load average |")
		p("| --- | --- |")
		for _, l := range r.loads {
			p("| %s | %s |", l.what, l.load)
		}
		p("")
	}
}

// largeMarkdown is make bench-large's section.
func (r *report) largeMarkdown(p func(string, ...any)) {
	n := r.cfg.servers * r.cfg.perServer
	title := fmt.Sprintf("## %s Large fleet (make bench-large): %d registrations on one manager", largeSectionNumber, n)
	if r.cfg.shards > 0 {
		title += fmt.Sprintf(", %d over %d shard managers", r.cfg.shards*r.cfg.shardClusters, r.cfg.shards)
	}
	p("%s", title)
	p("")
	p("Written by `make bench-large` on %s from tree %s; it replaces this section only (the rest of the file is `make bench`'s).",
		r.started.UTC().Format("2006-01-02 15:04 MST"), gitDescribe())
	p("")
	p("```")
	p("%s", r.cfg.command)
	p("```")
	p("")
	p("Machine: %d CPUs (%s), %s memory, %s; kube-apiserver %s. Load average at start / end: %s / %s.",
		runtime.NumCPU(), cpuModel(), memTotal(), runtime.Version(), r.kubeVer, r.loadStart, r.loadEnd)
	p("")
	p("### Setup")
	p("")
	r.setupList(p, fmt.Sprintf("fan-out objects (K=%d per profile): per 10 objects 5 ConfigMaps, 2 Secrets, 1 ServiceAccount, 1 headless Service, 1 Deployment; namespace templated from the cluster name", r.cfg.objects))
	p("### Targets (issue 18)")
	p("")
	p("| target | measured (baseline of the same run, ratio) | |")
	p("| --- | --- | --- |")
	r.issue18Rows(p)
	p("")
	p("### Analysis")
	p("")
	p("%s", largeAnalysisBegin)
	if kept := keptBetween(sectionOf(readFile(r.cfg.out), largeSectionNumber), largeAnalysisBegin, largeAnalysisEnd); kept != "" {
		p("%s", kept)
	} else {
		p("_(no analysis written yet)_")
	}
	p("%s", largeAnalysisEnd)
	p("")
	p("### Fan-out, label change, content change")
	p("")
	p("As in sections 3 and 4: converged when the last cluster has its summary Provisioned and every object (content change:")
	p("every object at the new revision); baseline: the harness's own server-side applies and DELETEs of the same objects.")
	p("")
	r.rolloutTables(p, "")
	p("")
	apiCostTable(p, r.rollouts)
	r.steadyTable(p)
	p("")
	r.scalePhases(p, "###")
	p("### Manager memory (in-process)")
	p("")
	r.memoryTable(p)
	r.shardedSection(p)
	r.largeProfiles(p)
}

// shardedSection is the sharded run's part of the large section.
func (r *report) shardedSection(p func(string, ...any)) {
	s := r.sharded
	if s == nil {
		return
	}
	p("### Sharded run: %d manager processes", s.shards)
	p("")
	p("cmd/manager built once (`-manager-binary`), one process per shard key (`--shard-key=shard-N --leader-elect=false`,")
	p("metrics and probes off, `--zap-log-level=error`, default --kube-api-qps 100), after the in-process manager stopped,")
	p("and one without a shard key: it selects for every shard (profiles, the ClusterSummaries of every cluster, labelled")
	p("with the cluster's shard) and takes over the unsharded clusters the in-process phases left; each shard manager caches")
	p("only the summaries labelled with its shard and deploys them.")
	p("%d SveltosClusters per shard (%d in all), annotated %s=shard-N, registered over the same managed API servers.", s.perShard, s.shards*s.perShard, "sharding.projectsveltos.io/key")
	p("")
	p("| | |")
	p("| --- | --- |")
	p("| registered (16 writers: namespace, Secret, SveltosCluster created annotated with its shard) | %s |", ms(s.registered))
	p("| all ready (from the first registration) | %s |", ms(s.ready))
	if ro := s.fanout; ro != nil {
		p("| fan-out of %d objects to %d clusters converged | %s (per-cluster p50 %s, p99 %s) |", s.k, ro.n, convStr(ro), ms(ro.perCluster.quantile(.5)), ms(ro.perCluster.quantile(.99)))
		p("| writes / reads the managed API servers served for it (their counts minus the harness's) | %d / %d |", ro.serverW, ro.reads)
	}
	if b := s.fanoutBase; b != nil {
		p("| baseline: plain server-side apply of the same objects, %d clusters at a time | %s (Tugboat %s) |", b.workers, ms(b.apply), ratio(s.fanout.converged, b.apply))
		p("| profile deleted: every summary gone | %s |", tookStr(s.withdrawn))
		p("| baseline: plain DELETE of the same objects | %s (Tugboat %s) |", ms(b.delete), ratio(s.withdrawn, b.delete))
	}
	p("")
	p("Memory of each manager process (VmRSS, and VmHWM in brackets, from /proc/<pid>/status):")
	p("")
	head := "| moment |"
	sep := "| --- |"
	for i := range s.shards {
		head += fmt.Sprintf(" shard-%d |", i+1)
		sep += " --- |"
	}
	head += " unsharded (selects) |"
	sep += " --- |"
	p("%s sum |", head)
	p("%s --- |", sep)
	for _, row := range s.mem {
		line := "| " + row.when + " |"
		var sum uint64
		for i := range row.rss {
			line += fmt.Sprintf(" %s (%s) |", mib(row.rss[i]), mib(row.hwm[i]))
			sum += row.rss[i]
		}
		p("%s %s |", line, mib(sum))
	}
	p("")
	for _, n := range s.notes {
		p("- %s", n)
	}
	for _, hp := range s.heaps {
		p("### Heap of the shard-1 manager, %s", hp.when)
		p("")
		args := []string{"tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=15", hp.path}
		p("Taken after a GC through `--pprof-bind-address`; `go %s`:", strings.Join(args, " "))
		p("")
		goToolBlock(p, args)
	}
}

// largeProfiles are the top of the CPU profiles of the largest fan-out and withdrawal.
func (r *report) largeProfiles(p func(string, ...any)) {
	if r.cfg.cpuprofile == "" {
		return
	}
	for _, prof := range []struct{ what, path string }{
		{"the largest fan-out", r.cfg.cpuprofile},
		{"the largest profile deletion (withdrawal)", withdrawalProfilePath(r.cfg.cpuprofile)},
	} {
		if readFile(prof.path) == "" {
			continue
		}
		p("### CPU profile of the manager during %s", prof.what)
		p("")
		args := []string{"tool", "pprof", "-top", "-nodecount=20", prof.path}
		p("`go %s` (-cum views: `go tool pprof -top -cum %s`):", strings.Join(args, " "), prof.path)
		p("")
		goToolBlock(p, args)
	}
}

// sectionOf is the section of a report whose heading starts "## <num> ", or "".
func sectionOf(md, num string) string {
	i := strings.Index(md, "\n## "+num+" ")
	if i < 0 {
		return ""
	}
	rest := md[i+1:]
	if j := strings.Index(rest[3:], "\n## "); j >= 0 {
		rest = rest[:j+3+1]
	}
	return rest
}

// keptBetween is the text between two markers of s, trimmed of blank lines, or "".
func keptBetween(s, begin, end string) string {
	i := strings.Index(s, begin)
	if i < 0 {
		return ""
	}
	rest := s[i+len(begin):]
	j := strings.Index(rest, end)
	if j < 0 {
		return ""
	}
	return strings.Trim(rest[:j], "\n")
}

// peakRSS is the largest RSS one shard manager process had in any reading
// after its clusters were registered, and how many clusters each holds.
func (s *shardedResult) peakRSS() (peak uint64, clusters int, ok bool) {
	for _, row := range s.mem[min(1, len(s.mem)):] { // the first reading is before any cluster
		for _, rss := range row.rss[:min(s.shards, len(row.rss))] { // the shard managers, not the selecting one
			peak, ok = max(peak, rss), true
		}
	}
	return peak, s.perShard, ok
}

// verdictAt is verdict(met) when the run was at the target's size, "–" otherwise.
func verdictAt(atSize, met bool) string {
	if !atSize {
		return "–"
	}
	return verdict(met)
}
