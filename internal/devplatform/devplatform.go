// Package devplatform runs a local Tugboat platform on this machine: a
// management cluster and managed clusters (real API servers from internal/localkube),
// the manager (GitOps scheduler included), the clusters registered as in the
// tutorial, Flux's source-controller and a Git server for GitOps. `tug dev up`
// starts it in a background process (Serve) and returns when it is ready;
// `tug dev down` stops that process, which stops everything it started.
//
// `tug dev cluster create|delete|list` add and remove clusters while it runs:
// the CLI asks the Serve process over a control channel (an HTTP server on
// 127.0.0.1 whose URL and token are in control.json in the state folder); see
// clusters.go for the calls.
package devplatform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/hack"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/localkube"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/support"
	"github.com/tugboat-dev/tugboat/test/charts"
)

// Options describes the local platform.
type Options struct {
	// Dir holds the kubeconfigs (<cluster>.kubeconfig), logs and state.
	Dir string
	// WorkloadClusters is the number of workload clusters (workload, workload-2, …).
	WorkloadClusters int
	// BinDir holds kube-apiserver and etcd (default: see localkube.BinDir).
	BinDir string
	// RepoRoot, when set, is a Tugboat checkout whose test/charts and
	// hack/postgres.sh the platform uses instead of the copies inside the binary.
	RepoRoot string
}

// DefaultDir is $TUGBOAT_DEV_DIR, else ~/.tugboat/dev.
func DefaultDir() string {
	if d := os.Getenv("TUGBOAT_DEV_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "tugboat-dev")
	}
	return filepath.Join(home, ".tugboat", "dev")
}

// ClusterNames are the clusters of the platform, management first.
func (o Options) ClusterNames() []string {
	names := []string{"mgmt", "services", "workload"}
	for i := 2; i <= o.WorkloadClusters; i++ {
		names = append(names, "workload-"+strconv.Itoa(i))
	}
	return names
}

func (o Options) pidFile() string   { return filepath.Join(o.Dir, "platform.pid") }
func (o Options) readyFile() string { return filepath.Join(o.Dir, "platform.ready") }
func (o Options) logFile() string   { return filepath.Join(o.Dir, "platform.log") }

// KubeconfigPath is where the kubeconfig of a cluster is written.
func (o Options) KubeconfigPath(cluster string) string {
	return filepath.Join(o.Dir, cluster+".kubeconfig")
}

// Running reports the pid of a running platform process, if any.
func (o Options) Running() (int, bool) {
	raw, err := os.ReadFile(o.pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return 0, false
	}
	return pid, true
}

// Up starts the platform in a background process running `self dev serve` and
// waits until it reports ready. When the platform already runs it does nothing.
// Missing cluster binaries are reported before anything starts.
func Up(ctx context.Context, o Options, self string, progress io.Writer) error {
	if _, ok := o.Running(); ok {
		if _, err := os.Stat(o.readyFile()); err == nil {
			return nil
		}
	} else {
		binDir, err := localkube.BinDir(o.BinDir)
		if err != nil {
			return err
		}
		if err := localkube.CheckSourceController(binDir); err != nil {
			return err
		}
		o.BinDir = binDir
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", o.Dir, err)
		}
		_ = os.Remove(o.readyFile())
		log, err := os.OpenFile(o.logFile(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("creating %s: %w", o.logFile(), err)
		}
		defer log.Close()
		args := []string{"dev", "serve", "--dir", o.Dir, "--clusters", strconv.Itoa(max(o.WorkloadClusters, 1)), "--bin-dir", o.BinDir}
		if o.RepoRoot != "" {
			args = append(args, "--repo", o.RepoRoot)
		}
		cmd := exec.Command(self, args...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives this command
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting the platform process: %w", err)
		}
		if err := os.WriteFile(o.pidFile(), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
			return err
		}
		go func() { _ = cmd.Wait() }()
		fmt.Fprintf(progress, "starting clusters %s (log: %s)\n", strings.Join(o.ClusterNames(), ", "), o.logFile())
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if _, err := os.Stat(o.readyFile()); err == nil {
			return nil
		}
		if _, ok := o.Running(); !ok {
			return fmt.Errorf("the platform process stopped; see %s:\n%s", o.logFile(), tail(o.logFile(), 15))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the platform is not ready after 5 minutes; see %s", o.logFile())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Down stops the platform process and waits until it is gone.
func Down(o Options) error {
	pid, ok := o.Running()
	if !ok {
		_ = os.Remove(o.pidFile())
		_ = os.Remove(o.readyFile())
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping platform process %d: %w", pid, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = os.Remove(o.pidFile())
	_ = os.Remove(o.readyFile())
	return nil
}

// Serve runs the platform in this process until ctx ends: clusters, manager
// (with the CloudEvents HTTP endpoint and the dashboard on loopback: events.url,
// events.token, dashboard.url, dashboard.token), registrations, Flux's
// source-controller, a Git server (its URL in git.url) and a NATS server with
// JetStream (nats.url, nats.token) that every cluster's sveltos-nats Secret names.
// It writes the ready file once every cluster is Ready.
func Serve(ctx context.Context, o Options) error {
	// Info and above, as cmd/manager starts; a DebuggingConfiguration "default"
	// raises components through the level table.
	logLevels := support.NewLogLevels()
	ctrl.SetLogger(support.NewLevelLogger(zap.New(zap.UseDevMode(false), zap.Level(zapcore.Level(-support.MostVerbose))), 0, logLevels))
	state := filepath.Join(o.Dir, "state")
	_ = os.RemoveAll(state)
	env, err := localkube.Start(ctx, localkube.Options{Clusters: o.ClusterNames(), BinDir: o.BinDir, Dir: state, InstallCRDs: true})
	if err != nil {
		return err
	}
	defer func() {
		env.Stop()
		_ = os.RemoveAll(state)
		for _, c := range env.Clusters {
			_ = os.Remove(o.KubeconfigPath(c.Name))
		}
		_ = os.Remove(o.readyFile())
		_ = os.Remove(o.pidFile())
	}()
	for _, c := range env.Clusters {
		if err := os.WriteFile(o.KubeconfigPath(c.Name), c.Kubeconfig, 0o600); err != nil {
			return err
		}
	}
	// Flux's CRDs go in before the manager starts, so that it watches the sources.
	if _, err := env.StartSourceController(ctx); err != nil {
		return err
	}
	stopGit, err := startGitServer(o, filepath.Join(state, "git"))
	if err != nil {
		return err
	}
	defer stopGit()

	// A NATS server with JetStream for CloudEvents (`tug dev tutorial portal`).
	natsServer, natsToken, stopNATS, err := startNATS(ctx, o, filepath.Join(state, "nats"))
	if err != nil {
		return err
	}
	defer stopNATS()
	defer o.removeEndpointFiles()

	mgmtCfg := env.Management().Config
	opts := manager.DefaultOptions()
	opts.MetricsAddr, opts.ProbeAddr, opts.LeaderElection = "0", "0", false
	opts.LogLevels = logLevels
	opts.TechsupportDir = filepath.Join(o.Dir, "techsupport")
	// The GitOps scheduler, delivery, compliance and promotion (`tug dev tutorial
	// scheduling`); Environments read their member clusters every 5s.
	opts.Scheduler, opts.SchedulerPollInterval = true, 5*time.Second
	// The CloudEvents HTTP endpoint and the dashboard, on loopback.
	opts.Events = &events.HTTPOptions{Address: "127.0.0.1:0", TokenSecret: eventsTokenSecret}
	opts.Dashboard = &dashboard.Options{Address: "127.0.0.1:0"}
	mgr, err := manager.New(ctx, mgmtCfg, opts)
	if err != nil {
		return err
	}
	mgrCtx, stopManager := context.WithCancel(ctx)
	defer stopManager()
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()

	c, err := client.New(mgmtCfg, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return err
	}
	if err := register(ctx, c, env, opts.ManagementCluster); err != nil {
		return err
	}
	if err := waitReady(ctx, c, env, opts.ManagementCluster); err != nil {
		return err
	}
	if err := configureNATS(ctx, env, natsServer.URL(), natsToken); err != nil {
		return err
	}
	if err := createEventsToken(ctx, o, c); err != nil {
		return err
	}
	if err := recordEndpoints(ctx, o, c, addr(mgr.Events.Addr), addr(mgr.Dashboard.Addr)); err != nil {
		return err
	}
	stopExtras, err := startTutorialParts(ctx, o, env)
	if err != nil {
		return err
	}
	defer stopExtras()
	stopControl, err := startControl(o, env, c)
	if err != nil {
		return err
	}
	defer stopControl()
	if err := os.WriteFile(o.readyFile(), []byte(time.Now().Format(time.RFC3339)), 0o644); err != nil {
		return err
	}
	fmt.Println("platform ready")
	select {
	case <-ctx.Done():
		stopManager()
		<-mgrDone
		return nil
	case err := <-mgrDone:
		if err == nil {
			err = errors.New("manager stopped")
		}
		return err
	}
}

// startTutorialParts starts what the tutorial needs beside the clusters: a local
// chart repository serving the stand-in charts (its URL in chartrepo.url) and the
// database stand-in on the services cluster.
func startTutorialParts(ctx context.Context, o Options, env *localkube.Env) (func(), error) {
	chartSources, script, err := o.tutorialFiles()
	if err != nil {
		return nil, err
	}
	repo, err := chartrepo.Serve(chartSources)
	if err != nil {
		return nil, fmt.Errorf("serving the local chart repository: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "chartrepo.url"), []byte(repo.URL), 0o644); err != nil {
		return nil, err
	}
	// PostgreSQL runs as the postgres user, which must reach its folder: keep it out of $HOME.
	dbDir, err := os.MkdirTemp("", "tugboat-dev-databases-")
	if err != nil {
		return nil, err
	}
	standInCtx, stopStandIn := context.WithCancel(ctx)
	done := make(chan struct{})
	standIn := &DatabaseStandIn{Services: env.Cluster("services").Config, Dir: dbDir, Script: script}
	go func() {
		defer close(done)
		_ = standIn.Run(standInCtx)
	}()
	return func() {
		stopStandIn()
		<-done
		_ = repo.Close()
		_ = os.RemoveAll(dbDir)
		_ = os.Remove(filepath.Join(o.Dir, "chartrepo.url"))
	}, nil
}

// tutorialFiles are the folder of chart sources and the path of postgres.sh: from
// RepoRoot when set, else the copies inside the binary written into the state folder.
func (o Options) tutorialFiles() (chartSources, postgresScript string, err error) {
	if o.RepoRoot != "" {
		return filepath.Join(o.RepoRoot, "test", "charts"), filepath.Join(o.RepoRoot, "hack", "postgres.sh"), nil
	}
	files := filepath.Join(o.Dir, "state", "files")
	chartSources = filepath.Join(files, "charts")
	if err := os.RemoveAll(files); err != nil {
		return "", "", err
	}
	if err := os.CopyFS(chartSources, charts.Sources()); err != nil {
		return "", "", fmt.Errorf("writing the stand-in charts into %s: %w", chartSources, err)
	}
	postgresScript = filepath.Join(files, "postgres.sh")
	if err := os.WriteFile(postgresScript, hack.PostgresScript(), 0o755); err != nil {
		return "", "", fmt.Errorf("writing %s: %w", postgresScript, err)
	}
	return chartSources, postgresScript, nil
}

// register registers the managed clusters as the tutorial does: services with
// type=services, workload clusters without labels; mgmt/mgmt gets type=mgmt.
func register(ctx context.Context, c client.Client, env *localkube.Env, mgmtRef types.NamespacedName) error {
	for _, cl := range env.Clusters[1:] {
		labels := map[string]string{}
		if cl.Name == "services" {
			labels["type"] = "services"
		}
		if _, err := clusters.Register(ctx, c, clusters.Registration{Namespace: cl.Name, Name: cl.Name, Kubeconfig: cl.Kubeconfig, Labels: labels}); err != nil {
			return err
		}
	}
	if err := clusters.EnsureManagementCluster(ctx, c, mgmtRef); err != nil {
		return err
	}
	return clusters.SetLabels(ctx, c, mgmtRef, map[string]string{"type": "mgmt"})
}

func waitReady(ctx context.Context, c client.Client, env *localkube.Env, mgmtRef types.NamespacedName) error {
	refs := []types.NamespacedName{mgmtRef}
	for _, cl := range env.Clusters[1:] {
		refs = append(refs, types.NamespacedName{Namespace: cl.Name, Name: cl.Name})
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pending := 0
		for _, ref := range refs {
			sc := &libv1beta1.SveltosCluster{}
			if err := c.Get(ctx, ref, sc); err != nil || !sc.Status.Ready {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d clusters not ready after 2 minutes", pending)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// addr is the address a server listens on, "" before it does.
func addr(of func() net.Addr) func() string {
	return func() string {
		if a := of(); a != nil {
			return a.String()
		}
		return ""
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
