package sources_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
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

// repo creates a repository on the Git server, pushes files to main and returns
// a working copy and the clone URL.
func repo(t *testing.T, name string, files map[string]string) (string, string) {
	t.Helper()
	url, err := git.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	work := gitopstest.Clone(t, url)
	gitopstest.Push(t, work, "main", files)
	return work, url
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
	first := gitopstest.Git(t, work, "rev-parse", "HEAD")
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

	second := gitopstest.Push(t, work, "main", map[string]string{"deploy/a.yaml": "kind: ConfigMap\nmetadata:\n  name: a2\n"}, "deploy/b.yaml")
	if err := sources.RequestReconcile(ctx, mgmt, ref, time.Now()); err != nil {
		t.Fatal(err)
	}
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
	status := map[string]any{"status": map[string]any{"artifact": map[string]any{
		"url": srv.URL + "/a.tar.gz", "revision": "main@sha1:0123", "digest": "sha256:" + strings.Repeat("ab", 32),
		"path": "a.tar.gz", "lastUpdateTime": time.Now().UTC().Format(time.RFC3339),
	}}}
	raw, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	if err := mgmt.Status().Patch(ctx, suspended, client.RawPatch(types.MergePatchType, raw)); err != nil {
		t.Fatal(err)
	}
	_, err = f.Fetch(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "GitRepository bad/tampered revision main@sha1:0123") || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("tampered artifact: %v", err)
	}
}
