package devplatform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/config/crd"
	"github.com/tugboat-dev/tugboat/examples"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// The scheduling act's names: the namespace of the management cluster holding
// its Environments and GitOpsRepos, its repositories on the platform's Git
// server, and its member clusters (name → cluster type, environment).
const (
	schedulingNamespace = "scheduling-demo"
	controlPlaneRepo    = "kalypso-control-plane"
	appSrcRepo          = "kalypso-app-src"
	platformGitOpsRepo  = "kalypso-gitops"
	// placeholderCommit is the commit the fixtures' base-repo.yaml pins, replaced when pushed.
	placeholderCommit = "3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b"
)

// SchedulingMember is a member cluster of the scheduling act.
type SchedulingMember struct {
	Name, ClusterType, Environment string
}

// SchedulingMembers are the act's clusters, created with `tug dev cluster create`.
var SchedulingMembers = []SchedulingMember{
	{"drone-dev", "drone", "dev"},
	{"large-dev", "large", "dev"},
	{"drone-stage", "drone", "stage"},
	{"large-stage", "large", "stage"},
}

func (m SchedulingMember) labels() map[string]string {
	return map[string]string{v1alpha1.MemberClusterTypeLabel: m.ClusterType, v1alpha1.MemberEnvironmentLabel: m.Environment}
}

// SchedulingAssignments are the namespaces the hello-world app's assignments
// create, by cluster: functional-test on drone and performance-test on large in
// dev, uat-test on every cluster type in stage.
var SchedulingAssignments = map[string][]string{
	"drone-dev":   {"dev-drone-hello-world-app-functional-test"},
	"large-dev":   {"dev-large-hello-world-app-performance-test"},
	"drone-stage": {"stage-drone-hello-world-app-uat-test"},
	"large-stage": {"stage-large-hello-world-app-uat-test"},
}

// RunScheduling plays the multi-cluster scheduling tutorial (Kalypso's) from dev
// to stage on the local platform, with the repositories of
// examples.KalypsoTutorial():
//
//  1. the control plane (main, dev, stage; main without the app's registration,
//     dev and stage pinned to its commit), the app team's repository and the
//     platform GitOps repository on the platform's Git server, pushed afresh;
//  2. the clusters drone-dev, large-dev, drone-stage and large-stage created as
//     `tug dev cluster create` does, labelled as members of their cluster type
//     and environment;
//  3. Environments dev (promoting automatically to stage) and stage and their
//     GitOpsRepos in the management cluster;
//  4. the app's registration pushed to main and pinned by dev;
//  5. its dev assignments in the dev clusters; 6. dev compliant; 7. the commit
//     promoted to stage; 8. the stage assignments in the stage clusters.
//
// No Flux runs inside the local platform's clusters, so every cluster type's
// folder is delivered by Tugboat here (the tutorial's drone and large clusters
// pull theirs with Flux); the output says so. What an earlier run left (its
// clusters, Environments and GitOpsRepos) is removed first. Unless keep is set,
// the act deletes what it created in the management cluster and its clusters at
// the end; the repositories stay on the Git server.
func (t *Tutorial) RunScheduling(ctx context.Context, keep bool) error {
	mgmt, err := t.client("mgmt")
	if err != nil {
		return err
	}
	fixtures := examples.KalypsoTutorial()
	if err := t.dropScheduling(ctx, mgmt, true); err != nil {
		return err
	}

	// 1. The repositories.
	urls := map[string]string{}
	for _, name := range []string{controlPlaneRepo, appSrcRepo, platformGitOpsRepo} {
		url, _, err := t.Options.createOrReuseRepo(name)
		if err != nil {
			return err
		}
		urls[name] = url
	}
	cp, appSrc, gitopsURL := urls[controlPlaneRepo], urls[appSrcRepo], urls[platformGitOpsRepo]
	if _, err := pushFresh(appSrc, "main", fixtures, "app-src", nil); err != nil {
		return err
	}
	m0, err := pushFresh(cp, "main", fixtures, "control-plane/main", map[string]string{
		"workloads/hello-world-app.yaml": "", // registered in step 4
		"workloads/README.md":            "Workload registrations.\n",
	})
	if err != nil {
		return err
	}
	for _, env := range []string{"dev", "stage"} {
		base, err := fs.ReadFile(fixtures, "control-plane/"+env+"/base-repo.yaml")
		if err != nil {
			return err
		}
		repo, err := fs.ReadFile(fixtures, "control-plane/"+env+"/gitops-repo.yaml")
		if err != nil {
			return err
		}
		if _, err := pushFresh(cp, env, fixtures, "control-plane/"+env, map[string]string{
			"base-repo.yaml":   strings.Replace(string(base), placeholderCommit, m0, 1),
			"gitops-repo.yaml": strings.Replace(string(repo), "https://github.com/kaizen/kalypso-gitops", gitopsURL, 1),
		}); err != nil {
			return err
		}
		if _, err := pushFresh(gitopsURL, env, nil, "", map[string]string{"README.md": "Platform GitOps repository, " + env + ".\n"}); err != nil {
			return err
		}
	}
	t.say("1. the tutorial's repositories on the platform's Git server (pushed afresh from the copy inside tug, examples/kalypso-tutorial):")
	fmt.Fprintf(t.Out, "   control plane %s: main at %s (templates, .environments; the app not registered yet), dev and stage pinned to it (base-repo.yaml)\n", cp, short(m0))
	fmt.Fprintf(t.Out, "   the app team's source %s (workload/hello-world-app.yaml: functional-test and performance-test in dev, uat-test in stage)\n", appSrc)
	fmt.Fprintf(t.Out, "   the platform GitOps repository %s (branches dev and stage), which the scheduler renders into\n", gitopsURL)

	// 2. The clusters.
	crds, err := crd.Read(fixtures, "member-crds/*.yaml")
	if err != nil {
		return err
	}
	members := map[string]client.Client{}
	for _, m := range SchedulingMembers {
		t.say("2. tug dev cluster create %s --labels %s=%s,%s=%s", m.Name, v1alpha1.MemberClusterTypeLabel, m.ClusterType, v1alpha1.MemberEnvironmentLabel, m.Environment)
		info, err := t.Options.CreateCluster(ctx, m.Name, m.labels())
		if err != nil {
			return err
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", info.Kubeconfig)
		if err != nil {
			return err
		}
		if err := crd.Apply(ctx, cfg, crds); err != nil {
			return fmt.Errorf("installing Flux's GitRepository and Kustomization kinds into %s: %w", m.Name, err)
		}
		if members[m.Name], err = t.client(m.Name); err != nil {
			return err
		}
		fmt.Fprintf(t.Out, "   ok: SveltosCluster %[1]s/%[1]s, a %[2]s cluster of %[3]s, Ready (kubeconfig %[4]s)\n", m.Name, m.ClusterType, m.Environment, info.Kubeconfig)
	}
	fmt.Fprintln(t.Out, "   delivery: in the tutorial the drone and large clusters run Flux and pull their folders of the platform GitOps")
	fmt.Fprintln(t.Out, "   repository themselves. No Flux runs inside the local platform's clusters, so here Tugboat delivers every cluster")
	fmt.Fprintln(t.Out, "   type's folder (no scheduler.kalypso.io/delivery label: tugboat) through a GitRepository and a generated")
	fmt.Fprintln(t.Out, "   ClusterProfile; the clusters serve Flux's GitRepository and Kustomization kinds (CRDs only), so each")
	fmt.Fprintln(t.Out, "   assignment's reconciler.yaml is stored there, and nothing runs it.")

	// 3. Environments and GitOpsRepos.
	t.say("3. Environments dev (promotion: next stage, Automatic) and stage, and their GitOpsRepos (direct pushes), in namespace %s of the management cluster", schedulingNamespace)
	if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: schedulingNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	for _, env := range []string{"dev", "stage"} {
		e := &v1alpha1.Environment{
			ObjectMeta: metav1.ObjectMeta{Namespace: schedulingNamespace, Name: env},
			Spec:       v1alpha1.EnvironmentSpec{ControlPlane: v1alpha1.RepositoryReference{Repo: cp, Branch: env, Path: "."}},
		}
		if env == "dev" {
			e.Spec.Promotion = &v1alpha1.Promotion{Next: "stage", Mode: v1alpha1.PromotionAutomatic}
		}
		if err := mgmt.Create(ctx, e); err != nil {
			return fmt.Errorf("creating Environment %s/%s: %w", schedulingNamespace, env, err)
		}
		r := &v1alpha1.GitOpsRepo{
			ObjectMeta: metav1.ObjectMeta{Namespace: schedulingNamespace, Name: env},
			Spec: v1alpha1.GitOpsRepoSpec{
				RepositoryReference: v1alpha1.RepositoryReference{Repo: gitopsURL, Branch: env, Path: "."},
				ControlPlane:        cp,
				Interval:            &metav1.Duration{Duration: 3 * time.Second},
				Direct:              true,
			},
		}
		if err := mgmt.Create(ctx, r); err != nil {
			return fmt.Errorf("creating GitOpsRepo %s/%s: %w", schedulingNamespace, env, err)
		}
	}
	for _, env := range []string{"dev", "stage"} {
		if _, err := t.waitEnvironment(ctx, mgmt, env, "compliant with main "+short(m0)+" (nothing assigned yet)", compliantWith(m0)); err != nil {
			return err
		}
	}

	// 4. The app's registration.
	reg, err := fs.ReadFile(fixtures, "control-plane/main/workloads/hello-world-app.yaml")
	if err != nil {
		return err
	}
	m1, err := pushEdits(cp, "main", "workload registration", map[string]string{
		"workloads/hello-world-app.yaml": strings.ReplaceAll(string(reg), "https://github.com/kaizen/kalypso-app-src", appSrc),
	})
	if err != nil {
		return err
	}
	t.say("4. the platform team registers the hello-world app on main (workloads/hello-world-app.yaml, workspace kaizen-app-team): commit %s", short(m1))
	base, err := fs.ReadFile(fixtures, "control-plane/dev/base-repo.yaml")
	if err != nil {
		return err
	}
	if _, err := pushEdits(cp, "dev", "dev: take main "+short(m1), map[string]string{"base-repo.yaml": strings.Replace(string(base), placeholderCommit, m1, 1)}); err != nil {
		return err
	}
	fmt.Fprintf(t.Out, "   dev's BaseRepo pins %s (the first environment takes main as the tutorial's CI does); the scheduler renders dev\n", short(m1))

	// 5. Dev assignments.
	t.say("5. dev assignments in the clusters")
	if err := t.waitAssignments(ctx, members, "drone-dev", "large-dev"); err != nil {
		return err
	}
	want, err := expectedPlatformConfig(fixtures)
	if err != nil {
		return err
	}
	ns := SchedulingAssignments["drone-dev"][0]
	if err := t.wait(ctx, "ConfigMap "+ns+"/platform-config in drone-dev holds the tutorial's platform config for drone in dev", func() error {
		cm := &corev1.ConfigMap{}
		if err := members["drone-dev"].Get(ctx, types.NamespacedName{Namespace: ns, Name: "platform-config"}, cm); err != nil {
			return err
		}
		if !reflect.DeepEqual(cm.Data, want) {
			return fmt.Errorf("data %v, want %v", cm.Data, want)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range sortedKeys(want) {
		fmt.Fprintf(t.Out, "      %s: %s\n", k, want[k])
	}

	// 6. Dev compliant.
	t.say("6. dev compliant: every dev cluster runs a platform GitOps commit rendered from %s", short(m1))
	dev, err := t.waitEnvironment(ctx, mgmt, "dev", "compliant with "+short(m1), compliantWith(m1))
	if err != nil {
		return err
	}
	t.printMembers(dev)

	// 7. Promoted.
	t.say("7. promoted: dev's gate opens, Tugboat writes %s into stage's BaseRepo (branch stage of the control plane)", short(m1))
	if err := t.wait(ctx, "stage's base-repo.yaml pins "+short(m1), func() error {
		got, err := pinnedCommit(cp, "stage")
		if err != nil {
			return err
		}
		if got != m1 {
			return fmt.Errorf("stage pins %s", short(got))
		}
		return nil
	}); err != nil {
		return err
	}
	dev = &v1alpha1.Environment{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: schedulingNamespace, Name: "dev"}, dev); err == nil && dev.Status.Promotion != nil {
		fmt.Fprintf(t.Out, "   dev's promotion status: %s\n", dev.Status.Promotion.Message)
	}

	// 8. Stage assignments.
	t.say("8. stage assignments in the stage clusters (uat-test, scheduled on every cluster type of stage)")
	if err := t.waitAssignments(ctx, members, "drone-stage", "large-stage"); err != nil {
		return err
	}
	stage, err := t.waitEnvironment(ctx, mgmt, "stage", "compliant with "+short(m1), compliantWith(m1))
	if err != nil {
		return err
	}
	t.printMembers(stage)

	t.say("9. what each cluster holds of the tutorial (namespaces dev-* and stage-*)")
	for _, m := range SchedulingMembers {
		got, err := tutorialNamespaces(ctx, members[m.Name])
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, SchedulingAssignments[m.Name]) {
			return fmt.Errorf("%s holds namespaces %v, want %v", m.Name, got, SchedulingAssignments[m.Name])
		}
		fmt.Fprintf(t.Out, "   %-11s %s\n", m.Name, strings.Join(got, ", "))
	}

	if keep {
		t.say("10. left running (--keep): kubectl get environments -n %s; the next run removes them first", schedulingNamespace)
		return nil
	}
	t.say("10. cleaning up: GitOpsRepos and Environments of %s deleted, the four clusters deleted (tug dev cluster delete); the repositories stay", schedulingNamespace)
	return t.dropScheduling(ctx, mgmt, false)
}

// dropScheduling deletes the act's GitOpsRepos (their finalizer withdraws the
// generated profiles), Environments and clusters. leftovers: what is found was
// left by an earlier run, and the output says so.
func (t *Tutorial) dropScheduling(ctx context.Context, mgmt client.Client, leftovers bool) error {
	note := func(format string, args ...any) {
		if leftovers {
			fmt.Fprintf(t.Out, "   from an earlier run: "+format+"\n", args...)
		}
	}
	repos := &v1alpha1.GitOpsRepoList{}
	if err := mgmt.List(ctx, repos, client.InNamespace(schedulingNamespace)); err != nil && !meta.IsNoMatchError(err) {
		return err
	}
	envs := &v1alpha1.EnvironmentList{}
	if err := mgmt.List(ctx, envs, client.InNamespace(schedulingNamespace)); err != nil && !meta.IsNoMatchError(err) {
		return err
	}
	for i := range repos.Items {
		note("deleting GitOpsRepo %s/%s", schedulingNamespace, repos.Items[i].Name)
		if err := client.IgnoreNotFound(mgmt.Delete(ctx, &repos.Items[i])); err != nil {
			return err
		}
	}
	for i := range envs.Items {
		note("deleting Environment %s/%s", schedulingNamespace, envs.Items[i].Name)
		if err := client.IgnoreNotFound(mgmt.Delete(ctx, &envs.Items[i])); err != nil {
			return err
		}
	}
	if len(repos.Items)+len(envs.Items) > 0 {
		if err := poll(ctx, 2*time.Minute, "the GitOpsRepos and Environments of "+schedulingNamespace+" to be gone", func() error {
			left := &v1alpha1.GitOpsRepoList{}
			if err := mgmt.List(ctx, left, client.InNamespace(schedulingNamespace)); err != nil {
				return err
			}
			leftEnvs := &v1alpha1.EnvironmentList{}
			if err := mgmt.List(ctx, leftEnvs, client.InNamespace(schedulingNamespace)); err != nil {
				return err
			}
			if n := len(left.Items) + len(leftEnvs.Items); n > 0 {
				return fmt.Errorf("%d left", n)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	created, err := t.Options.ListClusters(ctx)
	if err != nil {
		return err
	}
	for _, c := range created {
		for _, m := range SchedulingMembers {
			if c.Name != m.Name {
				continue
			}
			note("deleting cluster %s", c.Name)
			if err := t.Options.DeleteCluster(ctx, c.Name); err != nil && !errors.Is(err, ErrNoSuchCluster) {
				return err
			}
			if !leftovers {
				fmt.Fprintf(t.Out, "   ok: cluster %s deleted\n", c.Name)
			}
		}
	}
	return nil
}

func (t *Tutorial) waitEnvironment(ctx context.Context, mgmt client.Client, name, what string, check func(*v1alpha1.Environment) error) (*v1alpha1.Environment, error) {
	var e *v1alpha1.Environment
	err := t.wait(ctx, fmt.Sprintf("Environment %s/%s %s", schedulingNamespace, name, what), func() error {
		e = &v1alpha1.Environment{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: schedulingNamespace, Name: name}, e); err != nil {
			return err
		}
		return check(e)
	})
	return e, err
}

// waitAssignments waits for the namespaces of SchedulingAssignments in clusters.
func (t *Tutorial) waitAssignments(ctx context.Context, members map[string]client.Client, clusters ...string) error {
	for _, cluster := range clusters {
		for _, ns := range SchedulingAssignments[cluster] {
			if err := t.wait(ctx, fmt.Sprintf("namespace %s in %s", ns, cluster), func() error {
				return members[cluster].Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{})
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// printMembers prints what each member cluster of an environment runs.
func (t *Tutorial) printMembers(e *v1alpha1.Environment) {
	fmt.Fprintf(t.Out, "   %s: %s members compliant with %s\n", e.Name, e.Status.Members, short(e.Status.CompliantCommit))
	for _, c := range e.Status.Clusters {
		fmt.Fprintf(t.Out, "      %s/%s (%s, delivered by %s) runs %s, rendered from %s, healthy=%t\n",
			c.Namespace, c.Name, c.ClusterType, c.Delivery, short(c.Revision), short(c.Commit), c.Healthy)
	}
}

// compliantWith: the environment's commit is commit and every member runs it.
func compliantWith(commit string) func(*v1alpha1.Environment) error {
	return func(e *v1alpha1.Environment) error {
		c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionCompliant)
		if c == nil {
			return fmt.Errorf("no %s condition yet", v1alpha1.ConditionCompliant)
		}
		if e.Status.Commit != commit || e.Status.CompliantCommit != commit || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("commit %s, compliant with %s: %s", short(e.Status.Commit), short(e.Status.CompliantCommit), c.Message)
		}
		return nil
	}
}

// expectedPlatformConfig is the data of the platform-config the tutorial shows
// for the functional-test target in dev's drone folder.
func expectedPlatformConfig(fixtures fs.FS) (map[string]string, error) {
	raw, err := fs.ReadFile(fixtures, "expected/dev/drone/hello-world-app-functional-test/platform-config.yaml")
	if err != nil {
		return nil, err
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		return nil, fmt.Errorf("reading the expected platform-config: %w", err)
	}
	return cm.Data, nil
}

// tutorialNamespaces lists a cluster's namespaces named dev-* or stage-*, sorted.
func tutorialNamespaces(ctx context.Context, c client.Client) ([]string, error) {
	list := &corev1.NamespaceList{}
	if err := c.List(ctx, list); err != nil {
		return nil, err
	}
	var out []string
	for _, n := range list.Items {
		if strings.HasPrefix(n.Name, "dev-") || strings.HasPrefix(n.Name, "stage-") {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// pinnedCommit is the commit the BaseRepo of an environment's branch pins.
func pinnedCommit(url, branch string) (string, error) {
	repo, removeClone, err := cloneTemp(url, "tugboat-scheduling-", "--depth", "1", "--single-branch", "--branch", branch)
	if err != nil {
		return "", err
	}
	defer removeClone()
	raw, err := os.ReadFile(filepath.Join(repo, "base-repo.yaml"))
	if err != nil {
		return "", err
	}
	m, err := scheduler.LoadBytes("base-repo.yaml", raw)
	if err != nil {
		return "", err
	}
	if len(m.BaseRepos) != 1 {
		return "", fmt.Errorf("base-repo.yaml on %s holds %d BaseRepos", branch, len(m.BaseRepos))
	}
	return m.BaseRepos[0].Spec.Commit, nil
}

// pushFresh makes branch of the repository at url hold the folder dir of fsys
// (nothing when fsys is nil) with edits on top (path → content; "" removes the
// file), as one commit without parents, force-pushed: every run starts the
// tutorial's history afresh. It returns the commit.
func pushFresh(url, branch string, fsys fs.FS, dir string, edits map[string]string) (string, error) {
	work, err := os.MkdirTemp("", "tugboat-scheduling-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	repo := filepath.Join(work, "repo")
	if fsys != nil {
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			return "", err
		}
		if err := os.CopyFS(repo, sub); err != nil {
			return "", fmt.Errorf("writing %s: %w", dir, err)
		}
	} else if err := os.MkdirAll(repo, 0o755); err != nil {
		return "", err
	}
	if _, err := git(repo, "init", "-q", "-b", branch); err != nil {
		return "", err
	}
	return commitAndPush(repo, url, branch, "the tutorial's "+branch, edits, true)
}

// pushEdits commits edits (as pushFresh) on top of branch and pushes it.
func pushEdits(url, branch, message string, edits map[string]string) (string, error) {
	repo, removeClone, err := cloneTemp(url, "tugboat-scheduling-", "--single-branch", "--branch", branch)
	if err != nil {
		return "", err
	}
	defer removeClone()
	return commitAndPush(repo, url, branch, message, edits, false)
}

func commitAndPush(repo, url, branch, message string, edits map[string]string, force bool) (string, error) {
	for p, content := range edits {
		target := filepath.Join(repo, filepath.FromSlash(p))
		if content == "" {
			if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	push := []string{"push", "-q", url, "HEAD:refs/heads/" + branch}
	if force {
		push = []string{"push", "-q", "--force", url, "HEAD:refs/heads/" + branch}
	}
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-q", "--allow-empty", "-m", message}, push} {
		if _, err := git(repo, args...); err != nil {
			return "", err
		}
	}
	return git(repo, "rev-parse", "HEAD")
}
