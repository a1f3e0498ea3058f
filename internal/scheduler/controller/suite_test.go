package controller

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const seedDir = "../testdata/seed"

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
	var err error
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

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func bareRepoAt(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q", "--bare", "-b", "main")
	return dir
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// commit makes branch of remote hold src's files (the branch's files when src is
// empty) plus edits, as one commit, and returns it.
func commit(t *testing.T, remote, branch, src string, edits map[string]string) string {
	t.Helper()
	work := t.TempDir()
	if git(t, work, "ls-remote", "--heads", remote, "refs/heads/"+branch) != "" {
		git(t, work, "clone", "-q", "--single-branch", "--branch", branch, remote, ".")
		if src != "" {
			entries, _ := os.ReadDir(work)
			for _, e := range entries {
				if e.Name() != ".git" {
					os.RemoveAll(filepath.Join(work, e.Name()))
				}
			}
		}
	} else {
		git(t, work, "init", "-q")
		git(t, work, "checkout", "-q", "--orphan", branch)
	}
	if src != "" {
		copyTree(t, src, work)
	}
	for p, c := range edits {
		dst := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, work, "add", "-A")
	git(t, work, "commit", "-q", "--allow-empty", "-m", "update "+branch)
	git(t, work, "push", "-q", remote, "HEAD:refs/heads/"+branch)
	return git(t, work, "rev-parse", "HEAD")
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
		controlPlane: bareRepoAt(t, filepath.Join(root, "control-plane.git")),
		appSrc:       bareRepoAt(t, filepath.Join(root, "app-src.git")),
		gitops:       bareRepoAt(t, gitopsDir),
		envCommits:   map[string]string{},
	}
	commit(t, s.appSrc, "main", filepath.Join(seedDir, "app-src"), nil)
	registration := strings.ReplaceAll(readSeed(t, "control-plane/main/workloads/hello-world-app.yaml"),
		"https://github.com/kaizen/kalypso-app-src", "file://"+s.appSrc)
	s.mainCommit = commit(t, s.controlPlane, "main", filepath.Join(seedDir, "control-plane", "main"),
		map[string]string{"workloads/hello-world-app.yaml": registration})
	for _, e := range []string{"dev", "stage"} {
		edits := map[string]string{"base-repo.yaml": strings.Replace(readSeed(t, "control-plane/"+e+"/base-repo.yaml"),
			"3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b", s.mainCommit, 1)}
		for p, c := range envEdits[e] {
			edits[p] = c
		}
		s.envCommits[e] = commit(t, s.controlPlane, e, filepath.Join(seedDir, "control-plane", e), edits)
		commit(t, s.gitops, e, "", map[string]string{"README.md": "Platform GitOps repository, " + e + ".\n"})
	}
	return s
}

func commitCount(t *testing.T, repo, from, to string) int {
	t.Helper()
	n, err := strconv.Atoi(git(t, repo, "rev-list", "--count", from+".."+to))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func changedFiles(t *testing.T, repo, from, to string) []string {
	t.Helper()
	out := git(t, repo, "diff", "--name-only", from, to)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func filesAt(t *testing.T, repo, rev string) []string {
	t.Helper()
	return strings.Split(git(t, repo, "ls-tree", "-r", "--name-only", rev), "\n")
}
