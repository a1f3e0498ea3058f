// Command fleet is Tugboat's fleet benchmark harness (issue 9). It starts a few
// real kube-apiservers over one etcd, registers each of them as many
// SveltosClusters (each registration its own namespace and name, the same
// kubeconfig), runs the manager in this process and measures event→deploy
// latency, drift correction latency, fan-out convergence, the API cost on the
// managed clusters and the manager's memory. It writes a Markdown report.
//
//	make bench     # or: go run ./bench/fleet -out bench/RESULTS.md
//
// With -gitops K (default 10) it also times K git pushes reaching a profile's
// clusters through Flux's real source-controller (built by `make testbin`).
// -phases runs only some phases while iterating; with -section cloudevents
// the report of that phase replaces its section of -out and the rest of the
// file is kept (a phase measured alone without rewriting the other results).
//
// It is a program, not a test: `go test ./...` never runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/gitserver"
	"github.com/tugboat-dev/tugboat/internal/localkube"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// profileLabel marks every object the benchmark profiles deploy with the profile's name.
const profileLabel = "bench.tugboat.dev/profile"

type config struct {
	servers      int
	perServer    int
	objects      int
	sizes        []int
	driftN       int
	driftAll     bool
	eventsN      int
	cloudEventsN int    // samples per way of the CloudEvents phase
	section      string // write only this phase's section into -out
	steady       time.Duration
	concurrency  int
	timeout      time.Duration
	out          string
	gobench      string
	cpuprofile   string
	command      string
	verbose      bool

	dashboardProfiles int  // ClusterProfiles on every cluster in the dashboard phase
	dashboardDirect   bool // only the dashboard, on objects written straight into the management API server
	dashboardClusters int  // SveltosClusters of the direct mode

	gitopsN        int // GitOps samples (pushes); 0 skips the phase
	gitopsClusters int
	phases         map[string]bool

	stormN int // matching objects created at once in the event storm phase

	shards        int    // manager processes of the sharded run (0: no sharded run)
	shardClusters int    // SveltosClusters per shard in the sharded run
	shardObjects  int    // objects of the sharded run's fan-out profile
	managerBinary string // cmd/manager, built, run once per shard
}

// allPhases are the phases -phases selects from, in the order they run.
var allPhases = []string{"fanout", "label", "content", "gitops", "drift", "events", "cloudevents", "storm", "steady", "restart", "dashboard"}

// on reports whether a phase runs.
func (c config) on(phase string) bool {
	if phase == "gitops" && c.gitopsN <= 0 {
		return false
	}
	return c.phases[phase]
}

// server is one managed kube-apiserver.
type server struct {
	name    string
	cluster *localkube.Cluster
	c       client.Client
	dyn     dynamic.Interface
	cs      kubernetes.Interface
	counter *harnessCounter
}

// fleetCluster is one SveltosCluster: namespace and name both equal its name.
type fleetCluster struct {
	name   string
	server *server
}

type harness struct {
	cfg     config
	env     *localkube.Env
	mgmt    client.Client
	mgmtDyn dynamic.Interface
	mgmtCS  kubernetes.Interface
	mgr     *manager.Manager
	// mgrOpts are the options every in-process manager of the run is made with;
	// stopMgr stops the running one and waits until it has stopped.
	mgrOpts manager.Options
	stopMgr func()
	// mgrNamespace is the manager's namespace (the dashboard's token Secret).
	mgrNamespace string
	servers      []*server
	clusters     []fleetCluster
	// workers is the manager's concurrency, which the baselines copy.
	workers int
	git     *gitserver.Server
	rep     *report
}

func main() {
	var cfg config
	var sizes string
	flag.IntVar(&cfg.servers, "apiservers", 4, "managed kube-apiservers")
	flag.IntVar(&cfg.perServer, "per-server", 50, "SveltosClusters registered per managed API server")
	flag.IntVar(&cfg.objects, "objects", 10, "objects per fan-out profile (K; multiples of 10 keep the kind mix)")
	flag.StringVar(&sizes, "sizes", "10,50,200", "fan-out sizes N (clusters)")
	flag.IntVar(&cfg.driftN, "drift", 20, "drift corrections to time")
	flag.BoolVar(&cfg.driftAll, "drift-all", false, "put the drift profile on every cluster, not one registration per API server")
	flag.IntVar(&cfg.eventsN, "events", 20, "event→deploy samples to time")
	flag.IntVar(&cfg.cloudEventsN, "cloudevents", 100, "CloudEvents phase: samples per way (Kubernetes object, HTTP endpoint, NATS, JetStream)")
	flag.StringVar(&cfg.section, "section", "", "write only one section into -out, keeping the rest of the file: cloudevents (that phase) or large (the whole run as the large-fleet section, make bench-large)")
	flag.IntVar(&cfg.stormN, "storm", 200, "event storm phase: matching objects created at once in one source cluster (one generated profile each)")
	flag.IntVar(&cfg.shards, "shards", 0, "after the in-process phases, run a sharded fleet: this many manager processes (-manager-binary) with --shard-key=shard-1…N (0: none)")
	flag.IntVar(&cfg.shardClusters, "shard-clusters", 1000, "sharded run: SveltosClusters per shard, annotated "+libv1beta1.ShardAnnotation+"=shard-N")
	flag.IntVar(&cfg.shardObjects, "shard-objects", 10, "sharded run: objects of the fan-out profile")
	flag.StringVar(&cfg.managerBinary, "manager-binary", "", "sharded run: the manager built from ./cmd/manager")
	flag.DurationVar(&cfg.steady, "steady", time.Minute, "steady-state window with nothing changing")
	flag.IntVar(&cfg.concurrency, "concurrency", 0, "manager concurrency per controller (0: manager default)")
	flag.DurationVar(&cfg.timeout, "wait", 3*time.Minute, "longest wait for one convergence")
	flag.StringVar(&cfg.out, "out", "", "write the Markdown report here (default: stdout only)")
	flag.StringVar(&cfg.gobench, "gobench", "", "output of `go test -bench` to include in the report")
	flag.StringVar(&cfg.cpuprofile, "cpuprofile", "", "CPU profile of the manager during the largest fan-out")
	flag.StringVar(&cfg.command, "command", "", "the command line to record in the report (default: this program's arguments)")
	flag.BoolVar(&cfg.verbose, "v", false, "log the manager")
	flag.IntVar(&cfg.gitopsN, "gitops", 10, "GitOps pushes to time (git push → clusters through Flux's source-controller; 0 skips the phase)")
	flag.IntVar(&cfg.gitopsClusters, "gitops-clusters", 10, "clusters the GitOps profile selects")
	flag.IntVar(&cfg.dashboardProfiles, "dashboard-profiles", 10, "dashboard phase: ClusterProfiles (without features) put on every cluster, for clusters × profiles ClusterSummaries")
	flag.BoolVar(&cfg.dashboardDirect, "dashboard-direct", false, "run only the dashboard's direct mode: -dashboard-clusters SveltosClusters × -dashboard-profiles ClusterSummaries written straight into one management API server (no managed clusters, no controllers), then the dashboard phase's pages timed")
	flag.IntVar(&cfg.dashboardClusters, "dashboard-clusters", 1000, "dashboard-direct: SveltosClusters to write")
	phases := flag.String("phases", strings.Join(allPhases, ","), "phases to run (comma-separated, of "+strings.Join(allPhases, ",")+"); registration and memory always run")
	flag.Parse()
	cfg.phases = map[string]bool{}
	for _, ph := range strings.Split(*phases, ",") {
		ph = strings.TrimSpace(ph)
		if !slices.Contains(allPhases, ph) {
			fatalf("bad -phases entry %q (phases: %s)", ph, strings.Join(allPhases, ","))
		}
		cfg.phases[ph] = true
	}
	switch {
	case cfg.section == "":
	case cfg.section == "cloudevents" && cfg.out != "" && cfg.phases["cloudevents"]:
	case cfg.section == largeSection && cfg.out != "":
	default:
		fatalf("-section supports cloudevents (with the phase in -phases) and %s, both with -out", largeSection)
	}
	if cfg.shards > 0 && (cfg.managerBinary == "" || cfg.shardClusters <= 0) {
		fatalf("-shards needs -manager-binary (go build -o bench/out/manager ./cmd/manager) and -shard-clusters > 0")
	}
	cfg.gitopsClusters = min(cfg.gitopsClusters, cfg.servers*cfg.perServer)
	if cfg.on("gitops") {
		if cfg.gitopsClusters <= 0 {
			fatalf("bad -gitops-clusters %d", cfg.gitopsClusters)
		}
		if err := checkSourceController(); err != nil {
			fatalf("%v", err)
		}
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || n > cfg.servers*cfg.perServer {
			fatalf("bad -sizes entry %q (the fleet has %d clusters)", s, cfg.servers*cfg.perServer)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if cfg.command == "" {
		cfg.command = "go run ./bench/fleet " + strings.Join(os.Args[1:], " ")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.dashboardDirect {
		md, err := dashboardDirect(ctx, cfg)
		if err != nil {
			fatalf("dashboard-direct: %v", err)
		}
		fmt.Print(md)
		if cfg.out != "" {
			if err := writeReport(cfg.out, md); err != nil {
				fatalf("writing %s: %v", cfg.out, err)
			}
		}
		return
	}
	h := &harness{cfg: cfg, rep: newReport(cfg)}
	err := h.run(ctx)
	if h.env != nil {
		h.env.Stop()
	}
	if err != nil {
		h.rep.notef("**The run stopped early:** %v", err)
	}
	md := h.rep.markdown()
	var serr error
	if cfg.section != "" {
		md, serr = spliceSection(readFile(cfg.out), h.rep.sectionMarkdown(cfg.section))
	} else if kept := sectionOf(readFile(cfg.out), largeSectionNumber); kept != "" {
		// make bench rewrites the file but keeps make bench-large's section.
		md, serr = spliceSection(md, kept)
	}
	if serr != nil {
		fatalf("%v", serr)
	}
	fmt.Print(md)
	if cfg.out != "" {
		if werr := writeReport(cfg.out, md); werr != nil {
			fatalf("writing %s: %v", cfg.out, werr)
		}
	}
	if err != nil {
		os.Exit(1)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fleet: "+format+"\n", args...)
	os.Exit(2)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s fleet: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func (h *harness) run(ctx context.Context) error {
	runStart := time.Now()
	level := zapcore.Level(3)
	if h.cfg.verbose {
		level = zapcore.Level(0)
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(level)))
	h.rep.machine(ctx, nil)
	h.rep.memory("process start (harness only, before any API server)", memSnapshot(false))

	names := []string{"mgmt"}
	for i := range h.cfg.servers {
		names = append(names, fmt.Sprintf("api-%d", i+1))
	}
	logf("starting etcd and %d kube-apiservers", len(names))
	t0 := time.Now()
	env, err := localkube.Start(ctx, localkube.Options{Clusters: names, InstallCRDs: true})
	if err != nil {
		return fmt.Errorf("starting the API servers: %w", err)
	}
	h.env = env
	h.rep.setupf("etcd + %d kube-apiservers (1 management, %d managed) ready in %s", len(names), h.cfg.servers, ms(time.Since(t0)))
	scheme := api.NewScheme()
	mcfg := env.Management().Config
	if h.mgmt, err = client.New(mcfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if h.mgmtDyn, err = dynamic.NewForConfig(mcfg); err != nil {
		return err
	}
	if h.mgmtCS, err = kubernetes.NewForConfig(mcfg); err != nil {
		return err
	}
	for _, n := range names[1:] {
		s := &server{name: n, cluster: env.Cluster(n), counter: &harnessCounter{}}
		cfg := counted(s.cluster.Config, s.counter)
		if s.c, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
			return err
		}
		if s.dyn, err = dynamic.NewForConfig(cfg); err != nil {
			return err
		}
		if s.cs, err = kubernetes.NewForConfig(cfg); err != nil {
			return err
		}
		h.servers = append(h.servers, s)
	}
	h.rep.machine(ctx, h.servers[0].cs)
	if h.cfg.on("gitops") {
		// Before the manager: it watches the Flux sources only when their API is served at its start.
		if err := h.startGitOps(ctx); err != nil {
			return err
		}
		defer h.git.Close()
	}

	opts := manager.DefaultOptions()
	opts.MetricsAddr, opts.ProbeAddr, opts.LeaderElection = "0", "0", false
	// The restart phase makes a second manager in this process.
	opts.SkipControllerNameValidation = true
	if h.cfg.concurrency > 0 {
		opts.Concurrency = h.cfg.concurrency
	}
	if h.cfg.on("cloudevents") {
		opts.Events = eventsOptions()
	}
	if h.cfg.on("dashboard") {
		opts.Dashboard = &dashboard.Options{Address: "127.0.0.1:0"}
	}
	h.mgrOpts = opts
	h.mgrNamespace = opts.Namespace
	h.workers = opts.Concurrency
	h.rep.setupf("manager in-process: manager.DefaultOptions() with metrics/probes off, no leader election, Concurrency %d, ProbeInterval %s",
		opts.Concurrency, opts.ProbeInterval)
	if err := h.startManager(ctx); err != nil {
		return err
	}
	defer func() { h.stopManager() }()

	if err := h.register(ctx); err != nil {
		return err
	}
	h.rep.memory(fmt.Sprintf("%d clusters registered and ready, no profile", len(h.clusters)), memSnapshot(true))

	var skipped []string
	for _, ph := range allPhases {
		if !h.cfg.on(ph) {
			skipped = append(skipped, ph)
		}
	}
	if len(skipped) > 0 {
		h.rep.notef("phases not run (-phases / -gitops 0): %s", strings.Join(skipped, ", "))
	}

	// 3. Fan-out convergence, with the CPU profile on the largest size.
	if h.cfg.on("fanout") {
		bases := map[int]*baseline{}
		for _, n := range h.cfg.sizes {
			if err := h.fanout(ctx, n, n == h.cfg.sizes[len(h.cfg.sizes)-1]); err != nil {
				return err
			}
			b, err := h.baselineApply(ctx, h.clusters[:n], h.cfg.objects, h.workers)
			if err != nil {
				return err
			}
			bases[n] = b
			h.rep.baselines = append(h.rep.baselines, b)
		}
		h.rep.memory(fmt.Sprintf("%d clusters, %d fan-out profiles deployed", len(h.clusters), len(h.cfg.sizes)), memSnapshot(true))
		// Label changes start from clusters without summaries: a label change makes every
		// summary of the cluster redeploy, and a redeploy deletes the objects the same
		// profile deployed for sibling registrations of the API server (see the report).
		// Each profile is deleted on its own, timed against deleting its baseline's objects.
		for _, n := range h.cfg.sizes {
			took, err := h.withdrawProfiled(ctx, fmt.Sprintf("fan-n%d", n), n == h.cfg.sizes[len(h.cfg.sizes)-1])
			if err != nil {
				return err
			}
			if err := h.baselineDelete(ctx, bases[n]); err != nil {
				return err
			}
			h.rep.deletions = append(h.rep.deletions, deletion{n: n, took: took, base: bases[n]})
		}
	}
	if h.cfg.on("label") || h.cfg.on("content") {
		for i, n := range h.cfg.sizes {
			if i > 0 {
				if _, err := h.withdraw(ctx, fmt.Sprintf("lbl-n%d", h.cfg.sizes[i-1])); err != nil {
					return err
				}
			}
			if err := h.labelChange(ctx, n); err != nil {
				return err
			}
		}
	}
	// The content of the label phase's largest profile changes on every cluster it is on.
	if h.cfg.on("content") {
		if err := h.contentChange(ctx, h.cfg.sizes[len(h.cfg.sizes)-1]); err != nil {
			return err
		}
	}
	// 6. GitOps: git push → clusters, before the drift profile exists: a
	// drift-detection summary on the same clusters re-applies its own objects
	// when the pushed change lands (8 extra writes per push with drift on 2 of
	// the 10 clusters, measured), which would blur the per-cluster request count.
	if h.cfg.on("gitops") {
		if err := h.gitops(ctx); err != nil {
			return fmt.Errorf("GitOps phase: %w", err)
		}
	}
	// 2. Drift correction.
	if h.cfg.on("drift") {
		if err := h.drift(ctx); err != nil {
			return err
		}
	}
	// 1. Event → deploy.
	if h.cfg.on("events") {
		if err := h.events(ctx); err != nil {
			return err
		}
	}
	// 7. CloudEvents → deploy, against the Kubernetes-event path.
	if h.cfg.on("cloudevents") {
		if err := h.cloudEvents(ctx); err != nil {
			return fmt.Errorf("CloudEvents phase: %w", err)
		}
	}
	// 8. An event storm: many events at once.
	if h.cfg.on("storm") {
		if err := h.eventStorm(ctx); err != nil {
			return fmt.Errorf("event storm phase: %w", err)
		}
	}
	// 4. Steady state, then 5. memory at the end.
	if h.cfg.on("steady") {
		if err := h.steadyState(ctx); err != nil {
			return err
		}
	}
	// 8. The manager restarted on the converged fleet.
	if h.cfg.on("restart") {
		if err := h.restart(ctx); err != nil {
			return fmt.Errorf("restart phase: %w", err)
		}
	}
	// 8. The dashboard, last: its summaries would weigh on the other phases.
	if h.cfg.on("dashboard") {
		if err := h.dashboardPhase(ctx); err != nil {
			return fmt.Errorf("dashboard phase: %w", err)
		}
	}
	profiles := &configv1beta1.ClusterProfileList{}
	_ = h.mgmt.List(ctx, profiles)
	summaries := &configv1beta1.ClusterSummaryList{}
	_ = h.mgmt.List(ctx, summaries)
	h.rep.memory(fmt.Sprintf("end: %d clusters × %d ClusterProfiles (%d ClusterSummaries)", len(h.clusters), len(profiles.Items), len(summaries.Items)),
		memSnapshot(true))
	h.rep.serverMem = append(h.rep.serverMem, childMemory("in-process run, end"))
	// The sharded run: the in-process manager stops first (it would hold the CPU
	// and its unsharded clusters are not the sharded run's).
	if h.cfg.shards > 0 {
		h.stopManager()
		if err := h.shardedRun(ctx); err != nil {
			return fmt.Errorf("sharded run: %w", err)
		}
	}
	h.rep.setupf("whole run (without the Go benchmarks) took %s", ms(time.Since(runStart)))
	h.rep.machine(ctx, nil)
	return nil
}

// startManager makes a manager with h.mgrOpts and starts it in this process.
func (h *harness) startManager(ctx context.Context) error {
	mgrCtx, cancel := context.WithCancel(ctx)
	mgr, err := manager.New(mgrCtx, h.env.Management().Config, h.mgrOpts)
	if err != nil {
		cancel()
		return fmt.Errorf("creating the manager: %w", err)
	}
	h.mgr = mgr
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(mgrCtx); err != nil {
			logf("manager stopped: %v", err)
		}
	}()
	h.stopMgr = func() { cancel(); <-done }
	return nil
}

// stopManager stops the in-process manager, if one runs, and waits until it has stopped.
func (h *harness) stopManager() {
	if h.stopMgr != nil {
		h.stopMgr()
		h.stopMgr = nil
		h.mgr = nil
	}
}

// register registers every managed API server perServer times and waits until all are ready.
func (h *harness) register(ctx context.Context) error {
	total := h.cfg.servers * h.cfg.perServer
	// Round-robin over the servers, so that any prefix of the list spans them all.
	for i := range total {
		h.clusters = append(h.clusters, fleetCluster{name: fmt.Sprintf("c%03d", i+1), server: h.servers[i%len(h.servers)]})
	}
	logf("registering %d SveltosClusters", total)
	t0 := time.Now()
	err := testenv.Parallel(ctx, 8, len(h.clusters), func(i int) error {
		c := h.clusters[i]
		labels := map[string]string{"bench.tugboat.dev/apiserver": c.server.name}
		for _, n := range h.cfg.sizes {
			if i < n {
				labels[fmt.Sprintf("fan-n%d", n)] = "yes"
			}
		}
		if i < h.driftClusters() {
			labels["drift"] = "yes"
		}
		if h.cfg.on("storm") && i == 0 {
			labels[stormClusterLabel] = "yes"
		}
		if h.cfg.on("gitops") && i < h.gitopsClusters() {
			labels[gitopsLabel] = "yes"
		}
		_, err := clusters.Register(ctx, h.mgmt, clusters.Registration{Namespace: c.name, Name: c.name, Kubeconfig: c.server.cluster.Kubeconfig, Labels: labels})
		return err
	})
	if err != nil {
		return fmt.Errorf("registering: %w", err)
	}
	registered := time.Since(t0)
	err = h.waitFor(ctx, "every SveltosCluster ready", 5*time.Minute, func() (bool, error) {
		list := &libv1beta1.SveltosClusterList{}
		if err := h.mgmt.List(ctx, list); err != nil {
			return false, err
		}
		ready := 0
		for _, sc := range list.Items {
			if sc.Status.Ready && strings.HasPrefix(sc.Name, "c") {
				ready++
			}
		}
		return ready >= total, nil
	})
	if err != nil {
		return err
	}
	h.rep.setupf("%d SveltosClusters (%d per managed API server, each in its own namespace) registered in %s, all ready after %s",
		total, h.cfg.perServer, ms(registered), ms(time.Since(t0)))
	return nil
}

// driftClusters is how many clusters get the drift profile: one registration
// per API server (see the report's finding on sibling registrations).
func (h *harness) driftClusters() int {
	if h.cfg.driftAll {
		return len(h.clusters)
	}
	return min(len(h.servers), len(h.clusters))
}

// waitFor polls check every 200 ms.
func (h *harness) waitFor(ctx context.Context, what string, timeout time.Duration, check func() (bool, error)) error {
	return h.waitForEvery(ctx, what, timeout, 200*time.Millisecond, check)
}

// managerWrites sums the write requests the manager sent to managed clusters
// (every registered connection but the management cluster's).
func (h *harness) managerWrites(ctx context.Context) int64 {
	var sum int64
	if h.mgr == nil {
		return 0 // between two managers
	}
	for _, key := range h.mgr.Registry.Known() {
		if h.mgr.Registry.IsManagement(key) {
			continue
		}
		if c, err := h.mgr.Registry.Get(ctx, key); err == nil {
			sum += c.Writes()
		}
	}
	return sum
}

// serverCounts is what the managed API servers report, minus the harness's own requests.
type serverCounts struct{ server, harness requestCounts }

func (h *harness) serverCounts(ctx context.Context) (serverCounts, error) {
	var out serverCounts
	for _, s := range h.servers {
		c, err := scrape(ctx, s.cs)
		if err != nil {
			return out, fmt.Errorf("scraping %s: %w", s.name, err)
		}
		out.server = out.server.plus(c)
		out.harness = out.harness.plus(s.counter.get())
	}
	return out, nil
}

// managerDelta is the manager's share of the requests between two scrapes
// (server-side counts minus the harness's requests in between).
func managerDelta(before, after serverCounts) requestCounts {
	d := after.server.minus(before.server).minus(after.harness.minus(before.harness))
	d.watches = after.server.watches // open watches now, harness ones subtracted by the caller
	return d
}

// apiCounters is a snapshot of the API counters: the manager's writes to the
// managed clusters, the managed API servers' (and the harness's own) requests and
// the management API server's requests.
type apiCounters struct {
	writes  int64
	servers serverCounts
	mgmt    requestCounts
}

// apiCounters reads the API counters, in that order.
func (h *harness) apiCounters(ctx context.Context) (apiCounters, error) {
	writes := h.managerWrites(ctx)
	servers, err := h.serverCounts(ctx)
	if err != nil {
		return apiCounters{}, err
	}
	mgmt, err := scrape(ctx, h.mgmtCS)
	if err != nil {
		return apiCounters{}, err
	}
	return apiCounters{writes: writes, servers: servers, mgmt: mgmt}, nil
}

func (h *harness) ensureNamespace(ctx context.Context, c client.Client, name string) error {
	return clusters.EnsureNamespace(ctx, c, name)
}

func (h *harness) setClusterLabels(ctx context.Context, c fleetCluster, labels map[string]string) error {
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: c.name, Name: c.name}}
	patch := map[string]any{"metadata": map[string]any{"labels": labels}}
	return h.mgmt.Patch(ctx, sc, client.RawPatch(types.MergePatchType, mustJSON(patch)))
}

func (h *harness) policyConfigMap(ctx context.Context, name string, data map[string]string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: map[string]string{libv1beta1.TemplateAnnotation: "ok"}},
		Data:       data,
	}
	return h.mgmt.Create(ctx, cm)
}

// startCPUProfile starts a CPU profile into path (none when empty); the returned function stops it.
func (h *harness) startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// memStats is the process's memory at one moment.
type memStats struct {
	heapAlloc, heapInuse, sys, rss, hwm uint64
	goroutines                          int
}

func memSnapshot(gc bool) memStats {
	if gc {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rss, hwm := procStatus("VmRSS"), procStatus("VmHWM")
	return memStats{heapAlloc: m.HeapAlloc, heapInuse: m.HeapInuse, sys: m.Sys, rss: rss, hwm: hwm, goroutines: runtime.NumGoroutine()}
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(field string) uint64 { return procStatusOf("/proc/self/status", field) }

// procStatusOf reads a "kB" field of a /proc/<pid>/status file, in bytes.
func procStatusOf(path, field string) uint64 {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
