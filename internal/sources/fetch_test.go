package sources_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/gitserver"
	"github.com/tugboat-dev/tugboat/internal/sources"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client
	git  *gitserver.Server
)

// The management cluster runs Flux's real source-controller; a real Git server
// on loopback holds the repositories it reads.
func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt"}}, &env, func(ctx context.Context, e *testenv.Env) error {
		if _, err := e.StartSourceController(ctx); err != nil {
			return err
		}
		var err error
		if mgmt, err = client.New(e.Management().Config, client.Options{}); err != nil {
			return err
		}
		git, err = gitserver.Start(filepath.Join(e.Dir(), "git"), "127.0.0.1:0")
		return err
	}))
}

func run(t *testing.T, dir string, args ...string) string {
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

// repo creates a repository on the Git server, commits files to main and returns
// a working copy and the clone URL.
func repo(t *testing.T, name string, files map[string]string) (string, string) {
	t.Helper()
	url, err := git.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), name)
	run(t, filepath.Dir(work), "clone", "-q", url, name)
	commit(t, work, files, nil)
	return work, url
}

// commit writes (content) and deletes (nil content) files, commits and pushes
// to main, and returns the commit.
func commit(t *testing.T, work string, files map[string]string, remove []string) string {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(work, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range remove {
		run(t, work, "rm", "-q", p)
	}
	run(t, work, "add", "-A")
	run(t, work, "commit", "-q", "-m", "change")
	run(t, work, "push", "-q", "origin", "HEAD:main")
	return run(t, work, "rev-parse", "HEAD")
}

func gitRepository(namespace, name, url string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	u.SetNamespace(namespace)
	u.SetName(name)
	u.Object["spec"] = map[string]any{"url": url, "interval": "10m", "ref": map[string]any{"branch": "main"}}
	return u
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	if err := mgmt.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// requestReconcile asks source-controller to fetch now, as `flux reconcile source git` does.
func requestReconcile(t *testing.T, namespace, name string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, time.Now().Format(time.RFC3339Nano))
	u.SetNamespace(namespace)
	u.SetName(name)
	if err := mgmt.Patch(context.Background(), u, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// A GitRepository reconciled by the real source-controller: the fetcher reads its
// artifact, verifies the digest, serves files by path from one download, and
// follows a new commit.
func TestFetchFollowsTheGitRepository(t *testing.T) {
	ctx := context.Background()
	ensureNamespace(t, "flux-system")
	work, url := repo(t, "fleet", map[string]string{
		"deploy/a.yaml": "kind: ConfigMap\nmetadata:\n  name: a\n",
		"deploy/b.yaml": "kind: ConfigMap\nmetadata:\n  name: b\n",
		"README.md":     "fleet\n",
	})
	first := run(t, work, "rev-parse", "HEAD")
	if err := mgmt.Create(ctx, gitRepository("flux-system", "fleet", url)); err != nil {
		t.Fatal(err)
	}
	f := &sources.Fetcher{Reader: mgmt}
	ref := sources.Ref{Kind: sources.GitRepository, Namespace: "flux-system", Name: "fleet"}

	var snap *sources.Snapshot
	testenv.Eventually(t, "the first artifact", func() error {
		var err error
		snap, err = f.Fetch(ctx, ref)
		return err
	})
	if !strings.HasSuffix(snap.Artifact.Revision, first) || !strings.HasPrefix(snap.Artifact.Digest, "sha256:") {
		t.Errorf("artifact %+v, want revision …%s with a sha256 digest", snap.Artifact, first)
	}
	files, err := snap.Files("deploy")
	if err != nil || len(files) != 2 || !strings.Contains(string(files["a.yaml"]), "name: a") {
		t.Fatalf("deploy/: %v %v", files, err)
	}
	if _, err := f.Fetch(ctx, ref); err != nil || f.Downloads() != 1 {
		t.Errorf("a second fetch of the same revision downloaded again (%d downloads, %v)", f.Downloads(), err)
	}

	second := commit(t, work, map[string]string{"deploy/a.yaml": "kind: ConfigMap\nmetadata:\n  name: a2\n"}, []string{"deploy/b.yaml"})
	requestReconcile(t, "flux-system", "fleet")
	testenv.Eventually(t, "the second artifact", func() error {
		var err error
		if snap, err = f.Fetch(ctx, ref); err != nil {
			return err
		}
		if !strings.HasSuffix(snap.Artifact.Revision, second) {
			return fmt.Errorf("still at %s", snap.Artifact.Revision)
		}
		return nil
	})
	files, err = snap.Files("deploy")
	if err != nil || len(files) != 1 || !strings.Contains(string(files["a.yaml"]), "name: a2") {
		t.Errorf("deploy/ after the second commit: %v %v", files, err)
	}
	if f.Downloads() != 2 {
		t.Errorf("%d downloads, want 2", f.Downloads())
	}
}

// Bad sources: a missing one, one without an artifact yet, an artifact whose
// digest does not match, a path missing from the artifact — each an error naming
// the source (and revision and path where there is one).
func TestFetchErrors(t *testing.T) {
	ctx := context.Background()
	ensureNamespace(t, "bad")
	f := &sources.Fetcher{Reader: mgmt}

	_, err := f.Fetch(ctx, sources.Ref{Kind: sources.GitRepository, Namespace: "bad", Name: "missing"})
	if err == nil || !strings.Contains(err.Error(), "GitRepository bad/missing not found") {
		t.Errorf("missing source: %v", err)
	}
	_, err = f.Fetch(ctx, sources.Ref{Kind: "HelmRepository", Namespace: "bad", Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "unknown source kind") {
		t.Errorf("unknown kind: %v", err)
	}

	// A suspended GitRepository is left alone by source-controller; this test plays
	// source-controller for it by writing its status.
	suspended := gitRepository("bad", "tampered", "http://127.0.0.1:1/none.git")
	suspended.Object["spec"].(map[string]any)["suspend"] = true
	if err := mgmt.Create(ctx, suspended); err != nil {
		t.Fatal(err)
	}
	ref := sources.Ref{Kind: sources.GitRepository, Namespace: "bad", Name: "tampered"}
	if _, err := f.Fetch(ctx, ref); err == nil || !strings.Contains(err.Error(), "GitRepository bad/tampered: no artifact yet") {
		t.Errorf("no artifact: %v", err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("not what was announced")) }))
	defer srv.Close()
	suspended.Object["status"] = map[string]any{"artifact": map[string]any{
		"url": srv.URL + "/a.tar.gz", "revision": "main@sha1:0123", "digest": "sha256:" + strings.Repeat("ab", 32),
		"path": "a.tar.gz", "lastUpdateTime": time.Now().UTC().Format(time.RFC3339),
	}}
	if err := mgmt.Status().Update(ctx, suspended); err != nil {
		t.Fatal(err)
	}
	_, err = f.Fetch(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "GitRepository bad/tampered revision main@sha1:0123") || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("tampered artifact: %v", err)
	}
}
