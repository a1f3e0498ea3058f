package devplatform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
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
// deploy/ to the workload cluster, and a commit travelling to that cluster. It is
// safe to run again (the repository is reused).
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
	work, err := os.MkdirTemp("", "tugboat-gitops-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if _, err := git(work, "clone", "-q", url, "repo"); err != nil {
		return err
	}
	repo := filepath.Join(work, "repo")

	first, second := "hello from git", "hello again from git"
	commit, err := pushGreeting(repo, first)
	if err != nil {
		return err
	}
	t.say("2. pushed deploy/ (Namespace %s, ConfigMap %s/%s with message=%q): commit %s", gitopsNamespace, gitopsNamespace, gitopsConfigMap, first, short(commit))

	t.say("3. GitRepository flux-system/%s following main, ClusterProfile %s: policyRefs GitRepository path deploy, clusterRefs workload/workload", gitopsName, gitopsName)
	if err := apply(ctx, mgmt, []byte(gitopsManifest(url))); err != nil {
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
	return t.wait(ctx, "the workload cluster's summary records revision main@sha1:"+short(commit), func() error {
		return sourceRevision(ctx, mgmt, commit)
	})
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

// gitopsManifest is the GitRepository and the ClusterProfile of the GitOps act.
func gitopsManifest(url string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %[1]s
  namespace: flux-system
spec:
  url: %[2]s
  interval: 10m
  ref:
    branch: main
---
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata:
  name: %[1]s
spec:
  clusterRefs:
  - apiVersion: lib.projectsveltos.io/v1beta1
    kind: SveltosCluster
    namespace: workload
    name: workload
  policyRefs:
  - kind: GitRepository
    namespace: flux-system
    name: %[1]s
    path: deploy
`, gitopsName, url)
}

func short(commit string) string { return commit[:min(len(commit), 7)] }
