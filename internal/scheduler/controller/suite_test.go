package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/config/crd"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/localkube"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const seedDir = "../../../examples/kalypso-tutorial"

var (
	env  *testenv.Env
	mgmt client.Client
	rec  *Reconciler
	// githubRoot holds the bare repositories standing for https://github.com/test/<name>.
	githubRoot string
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt"}, InstallCRDs: true}, &env, start))
}

func start(ctx context.Context, env *testenv.Env) error {
	level := zapcore.Level(2)
	if os.Getenv("TUGBOAT_TEST_VERBOSE") != "" {
		level = -1
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
	cfg := env.Management().Config
	// Flux's source CRDs (no source-controller): the controller generates GitRepositories.
	bin, err := localkube.BinDir("")
	if err != nil {
		return err
	}
	fluxCRDs, err := crd.Read(os.DirFS(filepath.Join(bin, localkube.FluxCRDsDir)), "*.yaml")
	if err != nil {
		return err
	}
	if err := crd.Apply(ctx, cfg, fluxCRDs); err != nil {
		return err
	}
	if mgmt, err = client.New(cfg, client.Options{Scheme: api.NewScheme()}); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 api.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return err
	}
	githubRoot = filepath.Join(env.Dir(), "github")
	if err := os.MkdirAll(githubRoot, 0o755); err != nil {
		return err
	}
	rec = &Reconciler{
		Client:         mgr.GetClient(),
		CacheDir:       filepath.Join(env.Dir(), "scheduler-cache"),
		WorkDir:        filepath.Join(env.Dir(), "scheduler-work"),
		InsteadOf:      map[string]string{"https://github.com/test/": "file://" + githubRoot + "/"},
		WebhookAddress: "127.0.0.1:0",
		Recorder:       mgr.GetEventRecorder("tugboat-scheduler"),
	}
	if err := rec.SetupWithManager(mgr); err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return nil
}

// namespace creates a namespace for one test.
func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "sched-"}}
	if err := mgmt.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func readSeed(t *testing.T, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(seedDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// seedRepos are the tutorial's repositories as bare remotes on disk: the control
// plane (main, dev, stage; the workload registration pointing at appSrc, the
// BaseRepos pinned to the real main commit), the app source and the platform
// GitOps repository (dev and stage holding a README a person wrote).
type seedRepos struct {
	controlPlane, appSrc, gitops string
	mainCommit                   string
	envCommits                   map[string]string
}

// newSeedRepos creates the repositories; envEdits change files of environment
// branches (env → path → content). gitopsDir, when set, is where the GitOps
// repository is created.
func newSeedRepos(t *testing.T, gitopsDir string, envEdits map[string]map[string]string) *seedRepos {
	t.Helper()
	root := t.TempDir()
	if gitopsDir == "" {
		gitopsDir = filepath.Join(root, "gitops.git")
	}
	s := &seedRepos{
		controlPlane: gitopstest.BareRepo(t, filepath.Join(root, "control-plane.git")),
		appSrc:       gitopstest.BareRepo(t, filepath.Join(root, "app-src.git")),
		gitops:       gitopstest.BareRepo(t, gitopsDir),
		envCommits:   map[string]string{},
	}
	gitopstest.Commit(t, s.appSrc, "main", filepath.Join(seedDir, "app-src"), nil)
	registration := strings.ReplaceAll(readSeed(t, "control-plane/main/workloads/hello-world-app.yaml"),
		"https://github.com/kaizen/kalypso-app-src", "file://"+s.appSrc)
	s.mainCommit = gitopstest.Commit(t, s.controlPlane, "main", filepath.Join(seedDir, "control-plane", "main"),
		map[string]string{"workloads/hello-world-app.yaml": registration})
	for _, e := range []string{"dev", "stage"} {
		edits := map[string]string{"base-repo.yaml": strings.Replace(readSeed(t, "control-plane/"+e+"/base-repo.yaml"),
			"3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b", s.mainCommit, 1)}
		for p, c := range envEdits[e] {
			edits[p] = c
		}
		s.envCommits[e] = gitopstest.Commit(t, s.controlPlane, e, filepath.Join(seedDir, "control-plane", e), edits)
		gitopstest.Commit(t, s.gitops, e, "", map[string]string{"README.md": "Platform GitOps repository, " + e + ".\n"})
	}
	return s
}

func commitCount(t *testing.T, repo, from, to string) int {
	t.Helper()
	n, err := strconv.Atoi(gitopstest.Git(t, repo, "rev-list", "--count", from+".."+to))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func changedFiles(t *testing.T, repo, from, to string) []string {
	t.Helper()
	out := gitopstest.Git(t, repo, "diff", "--name-only", from, to)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func filesAt(t *testing.T, repo, rev string) []string {
	t.Helper()
	return strings.Split(gitopstest.Git(t, repo, "ls-tree", "-r", "--name-only", rev), "\n")
}
