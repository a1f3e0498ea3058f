package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The sharded run: -shards manager processes (cmd/manager, built once) with
// --shard-key=shard-1…N and one without a shard key (which selects: profiles
// and the ClusterSummaries of every shard) against the management API server, and
// -shards × -shard-clusters new SveltosClusters annotated
// sharding.projectsveltos.io/key=shard-N over the same managed API servers.
// It times registration, a fan-out to every sharded cluster and its withdrawal,
// each beside its plain-SSA / plain-DELETE baseline, and reads every
// process's memory from /proc/<pid>/status.

// shardFanLabel selects the sharded clusters of the sharded run's profile.
const shardFanLabel = "shard-fan"

// shardProcess is one manager process of the sharded run.
type shardProcess struct {
	key   string
	cmd   *exec.Cmd
	done  chan struct{}
	log   *os.File
	pprof string // the address of its /debug/pprof/, or ""
}

// heapProfile is a heap profile of a shard manager saved at one moment.
type heapProfile struct {
	when, path string
}

// shardMemRow is every shard process's memory at one moment.
type shardMemRow struct {
	when     string
	rss, hwm []uint64 // per process, in shard order
}

// shardedResult is what the sharded run measured.
type shardedResult struct {
	shards, perShard, k int
	registered, ready   time.Duration
	fanout              *rollout
	fanoutBase          *baseline
	withdrawn           time.Duration // 0 when it did not finish
	mem                 []shardMemRow
	heaps               []heapProfile // shard-1's
	notes               []string
}

func (h *harness) shardedRun(ctx context.Context) error {
	res := &shardedResult{shards: h.cfg.shards, perShard: h.cfg.shardClusters, k: h.cfg.shardObjects}
	h.rep.sharded = res
	total := res.shards * res.perShard
	var procs []*shardProcess
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	logDir := filepath.Dir(h.cfg.managerBinary)
	for i := range res.shards {
		key := fmt.Sprintf("shard-%d", i+1)
		var extra []string
		if i == 0 { // shard-1's heap is profiled (shardHeap)
			addr, err := freeLoopbackAddr()
			if err != nil {
				return err
			}
			extra = append(extra, "--pprof-bind-address="+addr)
		}
		p, err := startShard(h.cfg.managerBinary, h.env.Management().KubeconfigPath, key, filepath.Join(logDir, "manager-"+key+".log"), extra...)
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	// The manager without a shard key selects for every shard (profiles and
	// ClusterSummaries); it also takes over the unsharded clusters the in-process
	// phases left registered. It comes last in the memory table.
	selector, err := startShard(h.cfg.managerBinary, h.env.Management().KubeconfigPath, "", filepath.Join(logDir, "manager-unsharded.log"))
	if err != nil {
		return err
	}
	procs = append(procs, selector)
	res.mem = append(res.mem, shardMemory("started, no cluster yet", procs))

	// Registration: namespaces s<shard>-c<i>, servers round-robin.
	var fleet []fleetCluster
	for i := range total {
		shard := i%res.shards + 1
		fleet = append(fleet, fleetCluster{name: fmt.Sprintf("s%d-c%04d", shard, i/res.shards+1), server: h.servers[i%len(h.servers)]})
	}
	logf("sharded run: registering %d SveltosClusters over %d shards", total, res.shards)
	start := time.Now()
	err = testenv.Parallel(ctx, 16, total, func(i int) error {
		c := fleet[i]
		shard := fmt.Sprintf("shard-%d", i%res.shards+1)
		labels := map[string]string{"bench.tugboat.dev/apiserver": c.server.name, shardFanLabel: "yes"}
		_, err := clusters.Register(ctx, h.mgmt, clusters.Registration{Namespace: c.name, Name: c.name, Kubeconfig: c.server.cluster.Kubeconfig,
			Labels: labels, ShardKey: shard})
		return err
	})
	if err != nil {
		return fmt.Errorf("registering: %w", err)
	}
	res.registered = time.Since(start)
	var exitedEarly error // stops the wait: a manager that exited makes no cluster ready
	err = h.waitForEvery(ctx, "every sharded SveltosCluster ready", 15*time.Minute, time.Second, func() (bool, error) {
		if exitedEarly = allRunning(procs); exitedEarly != nil {
			return true, nil
		}
		list := &libv1beta1.SveltosClusterList{}
		if err := h.mgmt.List(ctx, list); err != nil {
			return false, err
		}
		ready := 0
		for _, sc := range list.Items {
			if sc.Status.Ready && sc.Annotations[libv1beta1.ShardAnnotation] != "" {
				ready++
			}
		}
		return ready >= total, nil
	})
	if err = errors.Join(err, exitedEarly); err != nil {
		return err
	}
	res.ready = time.Since(start)
	logf("sharded run: %d clusters registered in %s, ready after %s", total, ms(res.registered), ms(res.ready))
	res.mem = append(res.mem, shardMemory(fmt.Sprintf("%d clusters registered and ready", total), procs))
	res.shardHeap(procs[0], "registered and ready", filepath.Join(logDir, "heap-shard-1-ready.pprof"))
	h.rep.serverMem = append(h.rep.serverMem, childMemory(fmt.Sprintf("sharded run, %d more clusters registered", total)))

	// Fan-out to every sharded cluster, then its baseline.
	const profile = "shard-fan"
	if err := h.policyConfigMap(ctx, "bench-"+profile, map[string]string{"objects.yaml": objectsYAML(profile, res.k)}); err != nil {
		return err
	}
	names := make([]string, total)
	for i, c := range fleet {
		names[i] = c.name
	}
	r, err := h.shardRollout(ctx, profile, names, res.k)
	if err != nil {
		return err
	}
	res.fanout = r
	res.mem = append(res.mem, shardMemory(fmt.Sprintf("fan-out of %d objects to %d clusters converged", res.k, total), procs))
	res.shardHeap(procs[0], "fan-out converged", filepath.Join(logDir, "heap-shard-1-fanout.pprof"))
	if res.fanoutBase, err = h.baselineApply(ctx, fleet, res.k, res.shards*h.workers); err != nil {
		return err
	}
	h.rep.serverMem = append(h.rep.serverMem, childMemory("sharded run, fan-out and its baseline deployed"))

	// Withdrawal, then its baseline.
	took, err := h.withdraw(ctx, profile)
	if err != nil {
		return err
	}
	res.withdrawn = took
	if err := h.baselineDelete(ctx, res.fanoutBase); err != nil {
		return err
	}
	res.mem = append(res.mem, shardMemory("after the withdrawal", procs))
	for _, p := range procs {
		if exited(p) {
			res.notes = append(res.notes, fmt.Sprintf("manager %s exited during the run (see %s)", p.name(), p.log.Name()))
		}
	}
	return nil
}

// shardRollout times a ClusterProfile selecting shardFanLabel until every named
// cluster has its k objects and a Provisioned summary, counting the requests the
// managed API servers served meanwhile (the managers are other processes: only
// the servers' own counts).
func (h *harness) shardRollout(ctx context.Context, profile string, names []string, k int) (*rollout, error) {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t, err := h.trackProfile(tctx, profile, names, k, nil, false)
	if err != nil {
		return nil, err
	}
	c0, err := h.serverCounts(ctx)
	if err != nil {
		return nil, err
	}
	r := &rollout{what: "sharded fan-out (profile created)", n: len(names), k: k}
	logf("%s: N=%d K=%d", r.what, r.n, r.k)
	start := time.Now()
	if err := h.mgmt.Create(ctx, h.clusterProfile(profile, map[string]string{shardFanLabel: "yes"}, libv1beta1.SyncModeContinuous, "bench-"+profile)); err != nil {
		return nil, err
	}
	if err := h.await(ctx, t.done); err != nil {
		return nil, err
	}
	h.rep.loadAt(fmt.Sprintf("%s, N=%d", r.what, r.n))
	r.record(t, start)
	time.Sleep(2 * time.Second)
	c1, err := h.serverCounts(ctx)
	if err != nil {
		return nil, err
	}
	d := managerDelta(c0, c1)
	r.reads, r.serverW, r.deletes, r.writes = d.reads, d.writes, d.deletes, d.writes
	logf("%s: N=%d converged in %s (%d incomplete), %d writes, %d reads", r.what, r.n, ms(r.converged), r.incomplete, r.writes, r.reads)
	return r, nil
}

// shardHeap saves the heap profile of p (after a GC) into path, for the report.
func (res *shardedResult) shardHeap(p *shardProcess, when, path string) {
	if p.pprof == "" {
		return
	}
	if err := saveURL("http://"+p.pprof+"/debug/pprof/heap?gc=1", path); err != nil {
		res.notes = append(res.notes, fmt.Sprintf("heap profile of %s (%s): %v", p.name(), when, err))
		return
	}
	res.heaps = append(res.heaps, heapProfile{when: when, path: path})
}

// saveURL writes the body of a GET of url into path.
func saveURL(url, path string) error {
	resp, err := http.Get(url) //nolint:gosec // a loopback address the harness chose
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, body, 0o644)
}

// freeLoopbackAddr is a loopback address with a port free at the time of asking.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startShard starts one manager process for a shard key (empty: the unsharded
// one), its output into logPath, with extra flags.
func startShard(binary, kubeconfig, key, logPath string, extra ...string) (*shardProcess, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--kubeconfig=" + kubeconfig, "--shard-key=" + key, "--leader-elect=false",
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--zap-log-level=error"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting manager %s (%s): %w", key, binary, err)
	}
	p := &shardProcess{key: key, cmd: cmd, done: make(chan struct{}), log: log}
	for _, a := range extra {
		if v, ok := strings.CutPrefix(a, "--pprof-bind-address="); ok {
			p.pprof = v
		}
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop ends the process (SIGTERM, SIGKILL after 10 s) and waits for it.
func (p *shardProcess) stop() {
	if !exited(p) {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.log.Close()
}

// name is the process's shard key, or "unsharded".
func (p *shardProcess) name() string { return cmp.Or(p.key, "unsharded") }

func exited(p *shardProcess) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// allRunning is an error naming the first shard manager that exited, with the
// last line it logged: nothing would make its clusters ready any more.
func allRunning(procs []*shardProcess) error {
	for _, p := range procs {
		if !exited(p) {
			continue
		}
		last := ""
		if out, err := os.ReadFile(p.log.Name()); err == nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			last = lines[len(lines)-1]
		}
		return fmt.Errorf("manager %s exited (%s): %s", p.name(), p.log.Name(), last)
	}
	return nil
}

// shardMemory reads every shard process's VmRSS and VmHWM.
func shardMemory(when string, procs []*shardProcess) shardMemRow {
	row := shardMemRow{when: when}
	for _, p := range procs {
		status := filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status")
		row.rss = append(row.rss, procStatusOf(status, "VmRSS"))
		row.hwm = append(row.hwm, procStatusOf(status, "VmHWM"))
	}
	return row
}
