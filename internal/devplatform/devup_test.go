package devplatform_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugboat-dev/tugboat/internal/localkube"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// `tug dev up` starts the local platform in the background and returns when it
// is ready (kubeconfigs that work, clusters registered); running it again is a
// no-op; `tug dev down` stops everything it started: no process and no port
// stays behind. tug runs as an installed binary would: from a folder outside the
// checkout, without --repo or $KUBEBUILDER_ASSETS, finding the cluster binaries
// in the machine's cache folder and its charts and scripts inside itself.
func TestDevUpAndDown(t *testing.T) {
	work := t.TempDir()
	tug := buildTug(t, work)
	dir := filepath.Join(work, "dev")
	cache := cacheWithBinaries(t)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tug, append(args, "--dir", dir)...)
		cmd.Dir = work
		cmd.Env = installedEnv(cache)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("tug %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	runStatus := func(args ...string) (code int, stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(tug, append(args, "--dir", dir)...)
		cmd.Dir = work
		cmd.Env = installedEnv(cache)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), o.String(), e.String()
		} else if err != nil {
			t.Fatalf("tug %s: %v", strings.Join(args, " "), err)
		}
		return 0, o.String(), e.String()
	}
	defer exec.Command(tug, "dev", "down", "--dir", dir).Run() //nolint:errcheck // best effort on failure

	if code, _, stderr := runStatus("dev", "cluster", "create", "early"); code != 1 || stderr != "tug: no local platform is running: run `tug dev up`\n" {
		t.Errorf("tug dev cluster create without a platform: exit code %d, stderr %q", code, stderr)
	}

	out := run("dev", "up")
	for _, c := range []string{"mgmt", "services", "workload"} {
		if !strings.Contains(out, filepath.Join(dir, c+".kubeconfig")) {
			t.Errorf("summary lacks the kubectl line of %s:\n%s", c, out)
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "mgmt.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	raw, err := cs.RESTClient().Get().AbsPath("/apis/lib.projectsveltos.io/v1beta1/sveltosclusters").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"mgmt"`, `"name":"services"`, `"name":"workload"`, `"type":"services"`, `"type":"mgmt"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("registry lacks %s", want)
		}
	}
	gitURL, err := os.ReadFile(filepath.Join(dir, "git.url"))
	if err != nil || !strings.HasPrefix(string(gitURL), "http://127.0.0.1:") {
		t.Fatalf("git.url: %q, %v", gitURL, err)
	}
	if !strings.Contains(out, string(gitURL)) {
		t.Errorf("summary lacks the Git server's URL %s:\n%s", gitURL, out)
	}
	t.Run("CloudEvents and the dashboard: NATS with JetStream, the HTTP endpoint, the dashboard behind its token", func(t *testing.T) {
		testPlatformEndpoints(t, dir, out)
	})
	t.Run("the portal act: a CloudEvent creates a team's database, another gives it back", func(t *testing.T) {
		testPortalAct(t, run)
	})
	t.Run("tug dev repo create prints a clone URL git accepts", func(t *testing.T) {
		url := strings.TrimSpace(run("dev", "repo", "create", "x"))
		if url != string(gitURL)+"/x.git" {
			t.Fatalf("tug dev repo create x printed %q, want only %s/x.git", url, gitURL)
		}
		if out, err := exec.Command("git", "ls-remote", url).CombinedOutput(); err != nil {
			t.Errorf("git ls-remote %s: %v: %s", url, err, out)
		}
	})
	t.Run("the GitOps act: a commit travels from Git to the workload cluster", func(t *testing.T) {
		out := run("dev", "tutorial", "gitops")
		for _, want := range []string{
			"tug dev repo create gitops-demo",
			`ok: ConfigMap gitops-demo/greeting message="hello from git" in the workload cluster`,
			`ok: ConfigMap gitops-demo/greeting message="hello again from git" in the workload cluster`,
			"summary records revision",
			"tug dev cluster create staging --labels env=staging",
			`ok: ConfigMap platform-system/platform-baseline environment=staging`,
			"ok: NetworkPolicy team-tools/same-namespace-only",
			"ok: nothing of staging/staging left in the registry",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		again := run("dev", "tutorial", "gitops")
		if !strings.Contains(again, "exists already, reused") || !strings.Contains(again, `message="hello again from git" in the workload cluster`) {
			t.Errorf("second run:\n%s", again)
		}
		show := exec.Command(tug, "show", "addons", "--kubeconfig", filepath.Join(dir, "mgmt.kubeconfig"))
		show.Env = installedEnv(cache)
		addons, err := show.CombinedOutput()
		if err != nil || !strings.Contains(string(addons), "gitops-demo") {
			t.Errorf("tug show addons: %v\n%s", err, addons)
		}
	})
	t.Run("tug dev cluster create: a new staging cluster gets its environment; delete leaves nothing", func(t *testing.T) {
		// The GitOps act above bootstrapped the starter platform, environments included.
		testClusterOnRequest(t, dir, run, runStatus)
	})
	t.Run("the scheduling act: dev assignments, dev compliant, promoted, stage assignments; again, cleaning up", func(t *testing.T) {
		testSchedulingAct(t, run)
	})
	// A cluster created on request and left running stops with `tug dev down`.
	run("dev", "cluster", "create", "left-up")
	leftUp, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "left-up.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}

	pidRaw, err := os.ReadFile(filepath.Join(dir, "platform.pid"))
	if err != nil {
		t.Fatal(err)
	}
	again := run("dev", "up")
	if after, _ := os.ReadFile(filepath.Join(dir, "platform.pid")); !bytes.Equal(after, pidRaw) {
		t.Errorf("second dev up started another platform:\n%s", again)
	}

	host := strings.TrimPrefix(cfg.Host, "https://")
	servers := []string{host, strings.TrimPrefix(leftUp.Host, "https://")}
	for _, f := range []string{"nats.url", "events.url", "dashboard.url"} {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		u := strings.TrimSpace(string(raw))
		servers = append(servers, u[strings.Index(u, "://")+3:])
	}
	run("dev", "down")
	if _, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); err == nil {
		t.Error("the management API server still answers after dev down")
	}
	for _, h := range servers {
		if c, err := net.Dial("tcp", h); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections", h)
		}
	}
	for _, f := range []string{"left-up.kubeconfig", "control.json", "nats.url", "nats.token", "events.url", "events.token", "dashboard.url", "dashboard.token"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s stays after dev down", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "git.url")); err == nil {
		t.Error("git.url stays after dev down")
	}
	if c, err := net.Dial("tcp", strings.TrimPrefix(string(gitURL), "http://")); err == nil {
		c.Close()
		t.Errorf("the Git server %s still accepts connections", gitURL)
	}
	// The databases' watchdogs (hack/postgres.sh) notice within a second that
	// the platform process is gone.
	var procs []string
	for range 20 {
		if procs = processesMentioning(t, dir); len(procs) == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(procs) > 0 {
		t.Errorf("processes left behind: %v", procs)
	}
}

// processesMentioning lists the command lines of running processes that name dir.
func processesMentioning(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		if s := strings.ReplaceAll(string(cmdline), "\x00", " "); strings.Contains(s, dir) {
			out = append(out, s)
		}
	}
	return out
}

// Without the cluster binaries, or without Flux's source-controller, `tug dev up`
// says in one line what is missing and which command builds it, and starts nothing.
func TestDevUpWithoutBinaries(t *testing.T) {
	work := t.TempDir()
	tug := buildTug(t, work)
	for _, tc := range []struct {
		name, missing string
		cache         string
	}{
		{"no cluster binaries", "kube-apiserver", filepath.Join(work, "empty-cache")},
		{"no source-controller", "source-controller", cacheWith(t, "kube-apiserver", "etcd")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dev")
			cmd := exec.Command(tug, "dev", "up", "--dir", dir)
			cmd.Dir = work
			cmd.Env = installedEnv(tc.cache)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err == nil {
				exec.Command(tug, "dev", "down", "--dir", dir).Run() //nolint:errcheck // a platform started unexpectedly
				t.Fatalf("tug dev up succeeded without %s", tc.missing)
			}
			msg := strings.TrimSpace(stderr.String())
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "make testbin") || !strings.Contains(msg, tc.missing) {
				t.Errorf("want one line naming %s and `make testbin`, got:\n%s", tc.missing, msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "platform.pid")); err == nil {
				t.Error("a platform process was started")
			}
		})
	}
}

// buildTug builds the tug binary into dir.
func buildTug(t *testing.T, dir string) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tug := filepath.Join(dir, "tug")
	build := exec.Command("go", "build", "-o", tug, "./cmd/tug")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building tug: %v\n%s", err, out)
	}
	return tug
}

// cacheWithBinaries is a cache folder laid out as hack/test-binaries.sh fills it
// ($TUGBOAT_CACHE/testbin/<version>/), linking the binaries this test run uses:
// the clusters', Flux's source-controller and its CRDs.
func cacheWithBinaries(t *testing.T) string {
	t.Helper()
	return cacheWith(t, "kube-apiserver", "etcd", localkube.SourceControllerBinary, localkube.FluxCRDsDir)
}

// cacheWith is a cache folder linking only the named entries of the bin folder.
func cacheWith(t *testing.T, entries ...string) string {
	t.Helper()
	bins, err := localkube.BinDir("")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	testbin := filepath.Join(cache, "testbin", localkube.KubeVersion)
	if err := os.MkdirAll(testbin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range entries {
		if err := os.Symlink(filepath.Join(bins, b), filepath.Join(testbin, b)); err != nil {
			t.Fatal(err)
		}
	}
	return cache
}

// installedEnv is this process's environment without what points into the
// checkout ($KUBEBUILDER_ASSETS), with $TUGBOAT_CACHE set to cache.
func installedEnv(cache string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBEBUILDER_ASSETS=") && !strings.HasPrefix(kv, "TUGBOAT_CACHE=") {
			env = append(env, kv)
		}
	}
	return append(env, "TUGBOAT_CACHE="+cache)
}
