package devplatform_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	defer exec.Command(tug, "dev", "down", "--dir", dir).Run() //nolint:errcheck // best effort on failure

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
	pidRaw, err := os.ReadFile(filepath.Join(dir, "platform.pid"))
	if err != nil {
		t.Fatal(err)
	}
	again := run("dev", "up")
	if after, _ := os.ReadFile(filepath.Join(dir, "platform.pid")); !bytes.Equal(after, pidRaw) {
		t.Errorf("second dev up started another platform:\n%s", again)
	}

	host := strings.TrimPrefix(cfg.Host, "https://")
	run("dev", "down")
	if _, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); err == nil {
		t.Error("the management API server still answers after dev down")
	}
	if c, err := net.Dial("tcp", host); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections", host)
	}
	if procs := processesMentioning(t, dir); len(procs) > 0 {
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

// Without the cluster binaries, `tug dev up` says in one line which command builds
// them, and starts nothing.
func TestDevUpWithoutBinaries(t *testing.T) {
	work := t.TempDir()
	tug := buildTug(t, work)
	dir := filepath.Join(work, "dev")
	cmd := exec.Command(tug, "dev", "up", "--dir", dir)
	cmd.Dir = work
	cmd.Env = installedEnv(filepath.Join(work, "empty-cache"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		exec.Command(tug, "dev", "down", "--dir", dir).Run() //nolint:errcheck // a platform started unexpectedly
		t.Fatal("tug dev up succeeded without kube-apiserver and etcd")
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "make testbin") || !strings.Contains(msg, "kube-apiserver") {
		t.Errorf("want one line naming the binaries and `make testbin`, got:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "platform.pid")); err == nil {
		t.Error("a platform process was started")
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
// ($TUGBOAT_CACHE/testbin/<version>/), linking the binaries this test run uses.
func cacheWithBinaries(t *testing.T) string {
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
	for _, b := range []string{"kube-apiserver", "etcd"} {
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
