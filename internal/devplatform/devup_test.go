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

	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// `tug dev up` starts the local platform in the background and returns when it
// is ready (kubeconfigs that work, clusters registered); running it again is a
// no-op; `tug dev down` stops everything it started: no process and no port
// stays behind.
func TestDevUpAndDown(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	tug := filepath.Join(work, "tug")
	if out, err := exec.Command("go", "build", "-o", tug, filepath.Join(root, "cmd", "tug")).CombinedOutput(); err != nil {
		t.Fatalf("building tug: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "dev")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tug, append(args, "--dir", dir, "--repo", root)...)
		cmd.Dir = root
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
