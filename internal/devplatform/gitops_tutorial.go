package devplatform

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/bootstrap"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// The GitOps act's names: the repository, the GitRepository and ClusterProfile
// following it, and the ConfigMap its deploy/ folder holds.
const (
	gitopsName      = "gitops-demo"
	gitopsNamespace = "gitops-demo"
	gitopsConfigMap = "greeting"
)

// RunGitOps plays the GitOps act: a repository on the platform's Git server
// holding deploy/, a Flux GitRepository following it, a ClusterProfile deploying
// deploy/ to the workload cluster, and a commit travelling to that cluster; then
// the platform's environments from Git and a staging cluster on request
// (RunEnvironments). It is safe to run again (the repositories are reused).
func (t *Tutorial) RunGitOps(ctx context.Context) error {
	mgmt, workload, err := t.clients()
	if err != nil {
		return err
	}

	url, created, err := t.Options.createOrReuseRepo(gitopsName)
	if err != nil {
		return err
	}
	how := "created"
	if !created {
		how = "exists already, reused"
	}
	t.say("1. tug dev repo create %s: a repository on the platform's Git server (%s): %s", gitopsName, how, url)
	repo, removeClone, err := cloneTemp(url, "tugboat-gitops-")
	if err != nil {
		return err
	}
	defer removeClone()

	first, second := "hello from git", "hello again from git"
	commit, err := pushGreeting(repo, first)
	if err != nil {
		return err
	}
	t.say("2. pushed deploy/ (Namespace %s, ConfigMap %s/%s with message=%q): commit %s", gitopsNamespace, gitopsNamespace, gitopsConfigMap, first, short(commit))

	t.say("3. GitRepository flux-system/%s following main, ClusterProfile %s: policyRefs GitRepository path deploy, clusterRefs workload/workload (created as `tug bootstrap git` creates them)", gitopsName, gitopsName)
	demo := bootstrap.Git{URL: url, Branch: "main", Path: "deploy", Name: gitopsName, Namespace: "flux-system",
		Interval: 10 * time.Minute, Cluster: types.NamespacedName{Namespace: "workload", Name: "workload"}}
	if _, err := demo.Apply(ctx, mgmt); err != nil {
		return err
	}
	ref := sources.Ref{Kind: sources.GitRepository, Namespace: "flux-system", Name: gitopsName}
	if err := sources.RequestReconcile(ctx, mgmt, ref, time.Now()); err != nil {
		return err
	}
	if err := t.waitGreeting(ctx, workload, first); err != nil {
		return err
	}

	commit, err = pushGreeting(repo, second)
	if err != nil {
		return err
	}
	t.say("4. pushed a change (message=%q): commit %s; reconcile requested (as `flux reconcile source git %s` does)", second, short(commit), gitopsName)
	if err := sources.RequestReconcile(ctx, mgmt, ref, time.Now()); err != nil {
		return err
	}
	if err := t.waitGreeting(ctx, workload, second); err != nil {
		return err
	}
	if err := t.wait(ctx, "the workload cluster's summary records revision main@sha1:"+short(commit), func() error {
		return sourceRevision(ctx, mgmt, commit)
	}); err != nil {
		return err
	}
	return t.RunEnvironments(ctx)
}

func (t *Tutorial) waitGreeting(ctx context.Context, workload client.Client, want string) error {
	return t.wait(ctx, fmt.Sprintf("ConfigMap %s/%s message=%q in the workload cluster", gitopsNamespace, gitopsConfigMap, want), func() error {
		cm := &corev1.ConfigMap{}
		if err := workload.Get(ctx, types.NamespacedName{Namespace: gitopsNamespace, Name: gitopsConfigMap}, cm); err != nil {
			return err
		}
		if got := cm.Data["message"]; got != want {
			return fmt.Errorf("message is %q", got)
		}
		return nil
	})
}

// sourceRevision checks that the workload cluster's summary of the GitOps profile
// deployed commit.
func sourceRevision(ctx context.Context, mgmt client.Client, commit string) error {
	s := &configv1beta1.ClusterSummary{}
	name := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, gitopsName, "workload")
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "workload", Name: name}, s); err != nil {
		return err
	}
	for _, fs := range s.Status.FeatureSummaries {
		for _, r := range fs.SourceRevisions {
			if strings.HasSuffix(r.Revision, commit) {
				return nil
			}
		}
	}
	return fmt.Errorf("summary %s does not record commit %s yet", name, commit)
}

// pushGreeting writes deploy/ with message and pushes it to main; it returns the commit.
func pushGreeting(repo, message string) (string, error) {
	deploy := filepath.Join(repo, "deploy")
	if err := os.MkdirAll(deploy, 0o755); err != nil {
		return "", err
	}
	files := map[string]string{
		"namespace.yaml": fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", gitopsNamespace),
		"greeting.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  message: %q\n",
			gitopsConfigMap, gitopsNamespace, message),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(deploy, name), []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("writing deploy/%s: %w", name, err)
		}
	}
	for _, args := range [][]string{
		{"add", "deploy"},
		{"commit", "-q", "--allow-empty", "-m", "greeting: " + message},
		{"push", "-q", "origin", "HEAD:main"},
	} {
		if _, err := git(repo, args...); err != nil {
			return "", err
		}
	}
	return git(repo, "rev-parse", "HEAD")
}

func short(commit string) string { return commit[:min(len(commit), 7)] }

// The environments part of the act: the platform's own repository (the starter
// layout of `tug init platform`), bootstrapped as `tug bootstrap git` does, and a
// staging cluster created on request, filled by its environment, then deleted.
const (
	platformName    = "tugboat-platform"
	stagingCluster  = "staging"
	platformChartNS = "platform-system"
)

// RunEnvironments plays the environments part of the GitOps act: it pushes the
// starter layout (Tutorial.Platform) to the repository tugboat-platform with its
// chart repository pointed at the local one, bootstraps it into the management
// cluster, creates the cluster staging (env=staging) through the control channel
// as `tug dev cluster create` does, waits for everything environments/staging
// defines to arrive there, deletes it and checks that the registry holds nothing
// of it. It is safe to run again.
func (t *Tutorial) RunEnvironments(ctx context.Context) error {
	if t.Platform == nil {
		return fmt.Errorf("the tutorial has no starter platform layout to push")
	}
	mgmt, err := t.client("mgmt")
	if err != nil {
		return err
	}
	chartRepo, err := t.chartRepository()
	if err != nil {
		return err
	}
	url, _, err := t.Options.createOrReuseRepo(platformName)
	if err != nil {
		return err
	}
	repo, removeClone, err := cloneTemp(url, "tugboat-platform-")
	if err != nil {
		return err
	}
	defer removeClone()
	commit, err := pushPlatform(repo, t.Platform, chartRepo)
	if err != nil {
		return err
	}
	t.say("5. the platform from Git: pushed the starter layout of `tug init platform` (environments/development, staging, production; chart repository %s) to %s: commit %s",
		strings.TrimSpace(string(chartRepo)), url, short(commit))
	t.say("6. GitRepository flux-system/%[1]s and ClusterProfile %[1]s deploying platform/ into the management cluster (as `tug bootstrap git --url %[2]s` does)", platformName, url)
	platform := bootstrap.Git{URL: url, Branch: "main", Path: "platform", Name: platformName, Namespace: "flux-system",
		Interval: time.Minute, Cluster: types.NamespacedName{Namespace: "mgmt", Name: "mgmt"}}
	if _, err := platform.Apply(ctx, mgmt); err != nil {
		return err
	}
	if err := sources.RequestReconcile(ctx, mgmt, sources.Ref{Kind: sources.GitRepository, Namespace: "flux-system", Name: platformName}, time.Now()); err != nil {
		return err
	}
	if err := t.wait(ctx, "ClusterProfile staging-baseline (environments/staging) in the management cluster", func() error {
		return mgmt.Get(ctx, types.NamespacedName{Name: "staging-baseline"}, &configv1beta1.ClusterProfile{})
	}); err != nil {
		return err
	}

	if err := t.dropLeftoverStaging(ctx); err != nil {
		return err
	}
	t.say("7. tug dev cluster create %[1]s --labels env=staging: one more API server, registered as SveltosCluster %[1]s/%[1]s", stagingCluster)
	info, err := t.Options.CreateCluster(ctx, stagingCluster, map[string]string{"env": "staging"})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.Out, "   ok: %s at %s, Ready (kubeconfig %s)\n", info.Name, info.URL, info.Kubeconfig)
	staging, err := t.client(stagingCluster)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.Out, "   what environments/staging defines, arriving in %s:\n", stagingCluster)
	for _, w := range EnvironmentObjects("staging") {
		if err := t.wait(ctx, w.String(), func() error { return w.Check(ctx, staging) }); err != nil {
			return err
		}
	}
	summary := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "staging-baseline", stagingCluster)
	if err := t.wait(ctx, "ClusterSummary "+stagingCluster+"/"+summary+": resources and Helm chart Provisioned", func() error {
		if err := provisioned(ctx, mgmt, stagingCluster, summary, libv1beta1.FeatureResources); err != nil {
			return err
		}
		return provisioned(ctx, mgmt, stagingCluster, summary, libv1beta1.FeatureHelm)
	}); err != nil {
		return err
	}

	t.say("8. tug dev cluster delete %s: deregistered and stopped", stagingCluster)
	if err := t.Options.DeleteCluster(ctx, stagingCluster); err != nil {
		return err
	}
	ref := types.NamespacedName{Namespace: stagingCluster, Name: stagingCluster}
	return t.wait(ctx, fmt.Sprintf("nothing of %s left in the registry: no SveltosCluster, no Secret %s%s, no ClusterSummary",
		ref, stagingCluster, libv1beta1.KubeconfigSecretSuffix), func() error {
		return leftInRegistry(ctx, mgmt, ref)
	})
}

// dropLeftoverStaging deletes a staging cluster that an interrupted earlier
// run created on request, so that the act starts from no staging cluster.
func (t *Tutorial) dropLeftoverStaging(ctx context.Context) error {
	created, err := t.Options.ListClusters(ctx)
	if err != nil {
		return err
	}
	for _, c := range created {
		if c.Name == stagingCluster {
			fmt.Fprintf(t.Out, "   a cluster %s from an earlier run exists: deleting it first\n", stagingCluster)
			return t.Options.DeleteCluster(ctx, stagingCluster)
		}
	}
	return nil
}

// EnvironmentObject is one object an environment of the starter layout deploys
// into each of its clusters, with what it must hold.
type EnvironmentObject struct {
	Object    client.Object
	Namespace string
	Name      string
	// Data, for a ConfigMap, are entries it must hold.
	Data map[string]string
}

func (w EnvironmentObject) String() string {
	kind := fmt.Sprintf("%T", w.Object)
	kind = kind[strings.LastIndex(kind, ".")+1:]
	s := kind + " " + w.Name
	if w.Namespace != "" {
		s = kind + " " + w.Namespace + "/" + w.Name
	}
	for _, k := range sortedKeys(w.Data) {
		s += fmt.Sprintf(" %s=%s", k, w.Data[k])
	}
	return s
}

// Check reads the object from c and compares its data.
func (w EnvironmentObject) Check(ctx context.Context, c client.Client) error {
	obj := w.Object.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, types.NamespacedName{Namespace: w.Namespace, Name: w.Name}, obj); err != nil {
		return err
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok {
		for k, v := range w.Data {
			if cm.Data[k] != v {
				return fmt.Errorf("%s is %q", k, cm.Data[k])
			}
		}
	}
	return nil
}

// EnvironmentObjects are the objects environments/<env> of the starter layout
// deploys into a cluster labelled env=<env>: the namespace, ConfigMap and
// policies of baseline.yaml, and the ConfigMap of the Helm chart platform-baseline.
func EnvironmentObjects(env string) []EnvironmentObject {
	return []EnvironmentObject{
		{Object: &corev1.Namespace{}, Name: "team-tools"},
		{Object: &corev1.ConfigMap{}, Namespace: "team-tools", Name: "platform-info", Data: map[string]string{"environment": env}},
		{Object: &corev1.ResourceQuota{}, Namespace: "team-tools", Name: "baseline"},
		{Object: &corev1.LimitRange{}, Namespace: "team-tools", Name: "baseline"},
		{Object: &networkingv1.NetworkPolicy{}, Namespace: "team-tools", Name: "same-namespace-only"},
		{Object: &corev1.ConfigMap{}, Namespace: platformChartNS, Name: "platform-baseline", Data: map[string]string{"environment": env}},
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pushPlatform writes the starter layout into the clone repo, with every
// repositoryURL pointed at chartRepo, and pushes it to main; it returns the commit.
func pushPlatform(repo string, layout fs.FS, chartRepo string) (string, error) {
	files, err := ReadLayout(layout, func(data []byte) []byte { return pointChartsAt(data, chartRepo) })
	if err != nil {
		return "", fmt.Errorf("reading the starter layout: %w", err)
	}
	if err := WriteLayout(repo, files, nil); err != nil {
		return "", fmt.Errorf("writing the starter layout: %w", err)
	}
	for _, args := range [][]string{
		{"add", "-A"},
		{"commit", "-q", "--allow-empty", "-m", "platform: the starter layout of tug init platform"},
		{"push", "-q", "origin", "HEAD:main"},
	} {
		if _, err := git(repo, args...); err != nil {
			return "", err
		}
	}
	return git(repo, "rev-parse", "HEAD")
}

// cloneTemp clones url (git clone -q, with flags before the URL) into a new
// temporary folder named after pattern and returns the clone's path and the
// function removing the folder.
func cloneTemp(url, pattern string, flags ...string) (string, func(), error) {
	work, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	removeWork := func() { _ = os.RemoveAll(work) }
	args := append(append([]string{"clone", "-q"}, flags...), url, "repo")
	if _, err := git(work, args...); err != nil {
		removeWork()
		return "", nil, err
	}
	return filepath.Join(work, "repo"), removeWork, nil
}
