package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/gitserver"
	"github.com/tugboat-dev/tugboat/internal/localkube"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// The GitOps phase: a GitRepository on the loopback Git server, a ClusterProfile
// whose policyRefs name its deploy/ folder, then commits changing one value.
const (
	gitopsProfile = "gitops"
	gitopsLabel   = "gitops" // cluster label the profile selects
	gitopsRepo    = "bench-fleet"
	gitopsChanged = "gitops-release" // the ConfigMap whose data.release each commit changes
)

var (
	gitopsRef        = sources.Ref{Kind: sources.GitRepository, Namespace: "flux-system", Name: gitopsRepo}
	gvrGitRepository = schema.GroupVersionResource{Group: sources.Group, Version: sources.Version, Resource: "gitrepositories"}
)

// gitopsResult is what the GitOps phase measured.
type gitopsResult struct {
	n, k, samples int
	push          dist // git commit + push (CLI)
	source        dist // reconcile request → status.artifact.revision names the commit
	tugboat       dist // artifact → the value in every cluster
	perCluster    dist // artifact → the value in one cluster (n per sample)
	total         dist // start of the push → the value in every cluster
	writes        int64
	serverW       int64
	reads         int64
	mgmtWrites    int64 // all clients of the management API server
	gitRequests   int   // HTTP requests that reached the repository on the Git server
	recorded      int   // summaries whose sourceRevisions name the last commit
	lastCommit    string
}

// checkSourceController fails, before anything starts, when the bin folder lacks
// Flux's source-controller or its CRDs.
func checkSourceController() error {
	bin, err := localkube.BinDir("")
	if err != nil {
		return err
	}
	for _, f := range []string{localkube.SourceControllerBinary, localkube.FluxCRDsDir} {
		if _, err := os.Stat(filepath.Join(bin, f)); err != nil {
			return fmt.Errorf("the GitOps phase needs Flux's source-controller and its CRDs, and %s is not in %s: build it with `make testbin` (or skip the phase with -gitops 0)", f, bin)
		}
	}
	return nil
}

// startGitOps starts source-controller and the Git server; it runs before the
// manager is created, so that the manager watches the Flux sources.
func (h *harness) startGitOps(ctx context.Context) error {
	t0 := time.Now()
	if _, err := h.env.StartSourceController(ctx); err != nil {
		return fmt.Errorf("starting source-controller: %w", err)
	}
	git, err := gitserver.Start(filepath.Join(h.env.Dir(), "git"), "127.0.0.1:0")
	if err != nil {
		return err
	}
	h.git = git
	h.rep.setupf("Flux source-controller (the real one, from the bin folder; `--concurrent=4`) and the loopback Git server (git http-backend) ready in %s", ms(time.Since(t0)))
	return nil
}

// gitRun runs git in dir with a fixed identity and returns its trimmed output.
func gitRun(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=Bench", "-c", "user.email=bench@tugboat.dev", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// gitPush writes files into the working copy, commits them as one commit, pushes
// it to main and returns the commit.
func gitPush(ctx context.Context, work string, files map[string]string) (string, error) {
	for p, content := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-q", "--allow-empty", "-m", "bench"}, {"push", "-q", "origin", "HEAD:refs/heads/main"}} {
		if _, err := gitRun(ctx, work, args...); err != nil {
			return "", err
		}
	}
	return gitRun(ctx, work, "rev-parse", "HEAD")
}

// gitopsFiles is the repository's content: deploy/ holds the profile's objects
// (namespace templated from the cluster, hence the template marker), one
// ConfigMap carrying release; a README and a file outside deploy/ are ignored.
func gitopsFiles(release string) map[string]string {
	meta := func(apiVersion, kind, name string) string {
		return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: \"{{ .Cluster.metadata.name }}\"\n  labels:\n    %s: %s\n  annotations:\n    projectsveltos.io/template: ok\n",
			apiVersion, kind, name, profileLabel, gitopsProfile)
	}
	return map[string]string{
		"deploy/release.yaml":  meta("v1", "ConfigMap", gitopsChanged) + fmt.Sprintf("data:\n  release: %q\n", release),
		"deploy/settings.yaml": meta("v1", "ConfigMap", "gitops-settings") + "data:\n  settings.yaml: |\n    replicas: 3\n    logLevel: info\n",
		"deploy/sa.yaml":       meta("v1", "ServiceAccount", "gitops-web"),
		"deploy/web.yaml": meta("apps/v1", "Deployment", "gitops-web") +
			"spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: gitops-web\n  template:\n    metadata:\n      labels:\n        app: gitops-web\n    spec:\n      serviceAccountName: gitops-web\n      containers:\n      - name: web\n        image: nginx:1.27\n",
		"deploy/README.md":   "Deployed by the bench/fleet GitOps phase.\n",
		"other/ignored.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n  namespace: default\n",
	}
}

// gitopsObjects is how many objects deploy/ holds.
const gitopsObjects = 4

// gitopsClusters is how many clusters the GitOps profile selects (at most the fleet).
func (h *harness) gitopsClusters() int { return h.cfg.gitopsClusters }

// artifactWatch follows the GitRepository's status.artifact.revision and tells
// when it first names a commit.
type artifactWatch struct {
	mu   sync.Mutex
	seen map[string]time.Time // revision → first seen
	want string
	got  chan time.Time
}

func (a *artifactWatch) expect(commit string) <-chan time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.want, a.got = commit, make(chan time.Time, 1)
	for rev, at := range a.seen {
		if strings.HasSuffix(rev, commit) {
			a.got <- at
			a.want = ""
		}
	}
	return a.got
}

func (a *artifactWatch) revision(rev string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.seen[rev]; ok {
		return
	}
	a.seen[rev] = at
	if a.want != "" && strings.HasSuffix(rev, a.want) {
		a.got <- at
		a.want = ""
	}
}

// valueWatch follows the changed ConfigMap in the managed clusters and tells when
// it holds the awaited release in every cluster.
type valueWatch struct {
	mu    sync.Mutex
	want  map[string]bool // namespaces (= clusters)
	value string
	seen  map[string]time.Time
	done  chan struct{}
}

func (v *valueWatch) expect(value string) (<-chan struct{}, func() map[string]time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.value, v.seen, v.done = value, map[string]time.Time{}, make(chan struct{})
	done := v.done
	return done, func() map[string]time.Time {
		v.mu.Lock()
		defer v.mu.Unlock()
		out := make(map[string]time.Time, len(v.seen))
		for k, t := range v.seen {
			out[k] = t
		}
		return out
	}
}

func (v *valueWatch) object(u *unstructured.Unstructured, at time.Time) {
	release, _, _ := unstructured.NestedString(u.Object, "data", "release")
	v.mu.Lock()
	defer v.mu.Unlock()
	ns := u.GetNamespace()
	if v.seen == nil || !v.want[ns] || release != v.value {
		return
	}
	if _, ok := v.seen[ns]; ok {
		return
	}
	v.seen[ns] = at
	if len(v.seen) == len(v.want) {
		close(v.done)
	}
}

// gitops runs the GitOps phase.
func (h *harness) gitops(ctx context.Context) error {
	n := h.gitopsClusters()
	res := &gitopsResult{n: n, k: gitopsObjects}
	h.rep.gitops = res
	if err := h.ensureNamespace(ctx, h.mgmt, gitopsRef.Namespace); err != nil {
		return err
	}
	url, err := h.git.Create(gitopsRepo)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "fleet-gitops-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	work := filepath.Join(tmp, "work")
	if _, err := gitRun(ctx, tmp, "clone", "-q", url, work); err != nil {
		return err
	}
	first, err := gitPush(ctx, work, gitopsFiles("r0"))
	if err != nil {
		return err
	}

	// Follow the GitRepository's artifact from before it exists.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	art := &artifactWatch{seen: map[string]time.Time{}}
	err = watchLoop(wctx, h.mgmtDyn.Resource(gvrGitRepository).Namespace(gitopsRef.Namespace), metav1.ListOptions{FieldSelector: "metadata.name=" + gitopsRef.Name},
		func(_ watch.EventType, u *unstructured.Unstructured, at time.Time) {
			if rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision"); rev != "" {
				art.revision(rev, at)
			}
		})
	if err != nil {
		return fmt.Errorf("watching GitRepository %s/%s: %w", gitopsRef.Namespace, gitopsRef.Name, err)
	}
	firstArt := art.expect(first)
	repo := &unstructured.Unstructured{}
	repo.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	repo.SetNamespace(gitopsRef.Namespace)
	repo.SetName(gitopsRef.Name)
	repo.Object["spec"] = map[string]any{"url": url, "interval": "10m", "ref": map[string]any{"branch": "main"}}
	t0 := time.Now()
	if err := h.mgmt.Create(ctx, repo); err != nil {
		return fmt.Errorf("creating GitRepository %s/%s: %w", gitopsRef.Namespace, gitopsRef.Name, err)
	}
	select {
	case at := <-firstArt:
		h.rep.setupf("GitOps: GitRepository %s/%s (interval 10m, branch main) over %s; its first artifact %s after creation",
			gitopsRef.Namespace, gitopsRef.Name, url, ms(at.Sub(t0)))
	case <-time.After(h.cfg.timeout):
		return fmt.Errorf("GitRepository %s/%s has no artifact for %s after %s (see source-controller's log in %s)", gitopsRef.Namespace, gitopsRef.Name, first, h.cfg.timeout, h.env.Dir())
	case <-ctx.Done():
		return ctx.Err()
	}

	// The profile: its first rollout is timed like the fan-outs.
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: gitopsProfile}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{gitopsLabel: "yes"}
	p.Spec.SyncMode = libv1beta1.SyncModeContinuous
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: sources.GitRepository, Namespace: gitopsRef.Namespace, Name: gitopsRef.Name, Path: "deploy"}}
	r := &rollout{what: "GitOps profile (created; policyRefs GitRepository path deploy)", n: n, k: gitopsObjects}
	if err := h.measureRollout(ctx, r, gitopsProfile, func() error { return h.mgmt.Create(ctx, p) }); err != nil {
		return err
	}
	if r.incomplete > 0 {
		return fmt.Errorf("GitOps profile: reached only %d of %d clusters in %s", n-r.incomplete, n, h.cfg.timeout)
	}

	// The changed value, watched in every managed API server.
	val := &valueWatch{want: map[string]bool{}}
	for _, c := range h.clusterNames(n) {
		val.want[c] = true
	}
	for _, s := range h.servers {
		err := watchLoop(wctx, s.dyn.Resource(gvrConfigMap), metav1.ListOptions{FieldSelector: "metadata.name=" + gitopsChanged},
			func(typ watch.EventType, u *unstructured.Unstructured, at time.Time) {
				if typ == watch.Added || typ == watch.Modified {
					val.object(u, at)
				}
			})
		if err != nil {
			return err
		}
	}

	time.Sleep(time.Second)
	a0, err := h.apiCounters(ctx)
	if err != nil {
		return err
	}
	git0 := h.git.Requests(gitopsRepo)
	logf("gitops: %d pushes, each changing one value deployed to %d clusters", h.cfg.gitopsN, n)
	for i := 1; i <= h.cfg.gitopsN; i++ {
		if err := h.onePush(ctx, work, fmt.Sprintf("r%d", i), art, val, res); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Let trailing requests land before counting.
	time.Sleep(2 * time.Second)
	a1, err := h.apiCounters(ctx)
	if err != nil {
		return err
	}
	res.writes = a1.writes - a0.writes
	d := managerDelta(a0.servers, a1.servers)
	res.serverW, res.reads = d.writes, d.reads
	res.mgmtWrites = a1.mgmt.writes - a0.mgmt.writes
	res.gitRequests = h.git.Requests(gitopsRepo) - git0

	// The summaries record the last commit.
	list := &configv1beta1.ClusterSummaryList{}
	if err := h.mgmt.List(ctx, list, client.MatchingLabels{configv1beta1.ClusterProfileNameLabel: gitopsProfile}); err != nil {
		return err
	}
	for i := range list.Items {
		fs := list.Items[i].FeatureSummary(libv1beta1.FeatureResources)
		if fs == nil {
			continue
		}
		for _, sr := range fs.SourceRevisions {
			if sr.Kind == sources.GitRepository && sr.Name == gitopsRef.Name && strings.HasSuffix(sr.Revision, res.lastCommit) {
				res.recorded++
			}
		}
	}
	logf("gitops: source-controller p50 %s, Tugboat p50 %s (max %s), total p50 %s; %d writes to managed clusters",
		ms(res.source.quantile(.5)), ms(res.tugboat.quantile(.5)), ms(res.tugboat.max()), ms(res.total.quantile(.5)), res.writes)
	return ctx.Err()
}

// onePush commits a new release, asks source-controller to reconcile (as a Git
// webhook would) and times the two parts until every cluster has the value.
func (h *harness) onePush(ctx context.Context, work, release string, art *artifactWatch, val *valueWatch, res *gitopsResult) error {
	allDone, seen := val.expect(release)
	start := time.Now()
	commit, err := gitPush(ctx, work, map[string]string{"deploy/release.yaml": gitopsFiles(release)["deploy/release.yaml"]})
	if err != nil {
		return err
	}
	pushed := time.Now()
	artDone := art.expect(commit)
	res.lastCommit = commit
	res.samples++
	requested := time.Now()
	if err := sources.RequestReconcile(ctx, h.mgmt, gitopsRef, requested); err != nil {
		return err
	}
	res.push.add(pushed.Sub(start))
	timeout := time.After(time.Minute)
	var artAt time.Time
	select {
	case artAt = <-artDone:
		res.source.add(artAt.Sub(requested))
	case <-timeout:
		logf("gitops %s: no artifact for %s after a minute", release, commit)
		res.source.failures++
		res.tugboat.failures++
		res.total.failures++
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-allDone:
	case <-timeout:
	case <-ctx.Done():
		return ctx.Err()
	}
	got := seen()
	var last time.Time
	for _, at := range got {
		res.perCluster.add(at.Sub(artAt))
		if at.After(last) {
			last = at
		}
	}
	if missing := len(val.want) - len(got); missing > 0 {
		logf("gitops %s: the value reached %d of %d clusters within a minute", release, len(got), len(val.want))
		res.perCluster.failures += missing
		res.tugboat.failures++
		res.total.failures++
		return nil
	}
	res.tugboat.add(last.Sub(artAt))
	res.total.add(last.Sub(start))
	logf("gitops %s: push %s, source-controller %s, Tugboat %s, total %s", release, ms(pushed.Sub(start)), ms(artAt.Sub(requested)), ms(last.Sub(artAt)), ms(last.Sub(start)))
	return nil
}
