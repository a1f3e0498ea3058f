package scheduling_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const seedDir = "../../examples/kalypso-tutorial"

func readSeed(t testing.TB, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(seedDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// tutorial is the tutorial's repositories on the Git server: the control plane
// (main at m0 without the app's registration; dev and stage pinned to m0), the
// app team's source repository and the platform GitOps repository.
type tutorial struct {
	controlPlane, appSrc, gitops string
	m0                           string
}

// registration is the platform team's onboarding of the hello-world app (the
// tutorial's workloads/hello-world-app.yaml) pointing at the app's repository.
func (tu *tutorial) registration(t testing.TB) string {
	return strings.ReplaceAll(readSeed(t, "control-plane/main/workloads/hello-world-app.yaml"),
		"https://github.com/kaizen/kalypso-app-src", tu.appSrc)
}

// baseRepo is an environment's base-repo.yaml pinned to commit.
func baseRepo(t testing.TB, env, commit string) string {
	return strings.Replace(readSeed(t, "control-plane/"+env+"/base-repo.yaml"), "3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b", commit, 1)
}

func newTutorial(t testing.TB, prefix string) *tutorial {
	t.Helper()
	tu := &tutorial{}
	for _, r := range []struct {
		name string
		url  *string
	}{{"control-plane", &tu.controlPlane}, {"app-src", &tu.appSrc}, {"gitops", &tu.gitops}} {
		url, err := git.Create(prefix + "-" + r.name)
		if err != nil {
			t.Fatal(err)
		}
		*r.url = url
	}
	gitopstest.Commit(t, tu.appSrc, "main", filepath.Join(seedDir, "app-src"), nil)
	main := t.TempDir()
	gitopstest.CopyTree(t, filepath.Join(seedDir, "control-plane", "main"), main)
	if err := os.Remove(filepath.Join(main, "workloads", "hello-world-app.yaml")); err != nil {
		t.Fatal(err)
	}
	tu.m0 = gitopstest.Commit(t, tu.controlPlane, "main", main, map[string]string{"workloads/README.md": "Workload registrations.\n"})
	for _, e := range []string{"dev", "stage"} {
		edits := map[string]string{
			"base-repo.yaml":   baseRepo(t, e, tu.m0),
			"gitops-repo.yaml": strings.Replace(readSeed(t, "control-plane/"+e+"/gitops-repo.yaml"), "https://github.com/kaizen/kalypso-gitops", tu.gitops, 1),
		}
		if e == "stage" {
			// The stage drone cluster runs Flux, which pulls its folder itself.
			edits["cluster-types/china-north-3/drone/drone.yaml"] = strings.Replace(readSeed(t, "control-plane/stage/cluster-types/china-north-3/drone/drone.yaml"),
				"  labels:\n", "  labels:\n    "+v1alpha1.DeliveryLabel+": "+v1alpha1.DeliveryFlux+"\n", 1)
		}
		gitopstest.Commit(t, tu.controlPlane, e, filepath.Join(seedDir, "control-plane", e), edits)
		gitopstest.Commit(t, tu.gitops, e, "", map[string]string{"README.md": "Platform GitOps repository, " + e + ".\n"})
	}
	return tu
}

// pinnedCommit is the commit the BaseRepo of an environment's branch pins.
func (tu *tutorial) pinnedCommit(t testing.TB, env string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "cp")
	gitopstest.Git(t, filepath.Dir(work), "clone", "-q", "--single-branch", "--branch", env, tu.controlPlane, work)
	raw, err := os.ReadFile(filepath.Join(work, "base-repo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := scheduler.LoadBytes("base-repo.yaml", raw)
	if err != nil || len(m.BaseRepos) != 1 {
		t.Fatalf("base-repo.yaml on %s: %v %+v", env, err, m)
	}
	return m.BaseRepos[0].Spec.Commit
}

// branchHead is the head commit of a branch of a repository.
func branchHead(t testing.TB, url, branch string) string {
	t.Helper()
	out := gitopstest.Git(t, t.TempDir(), "ls-remote", "--heads", url, "refs/heads/"+branch)
	head, _, _ := strings.Cut(out, "\t")
	return head
}

func member(t testing.TB, name string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(name).Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitEnvironment(t testing.TB, ns, name, what string, check func(*v1alpha1.Environment) error) *v1alpha1.Environment {
	t.Helper()
	var e *v1alpha1.Environment
	testenv.Eventually(t, fmt.Sprintf("Environment %s/%s: %s", ns, name, what), func() error {
		e = &v1alpha1.Environment{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, e); err != nil {
			return err
		}
		return check(e)
	})
	return e
}

func condition(e *v1alpha1.Environment, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(e.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{Type: typ, Status: metav1.ConditionUnknown}
}

// compliantWith: every member runs commit.
func compliantWith(commit string) func(*v1alpha1.Environment) error {
	return func(e *v1alpha1.Environment) error {
		c := condition(e, v1alpha1.ConditionCompliant)
		if e.Status.Commit != commit || e.Status.CompliantCommit != commit || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("commit %s compliant %s: Compliant %s %s: %s", e.Status.Commit, e.Status.CompliantCommit, c.Status, c.Reason, c.Message)
		}
		return nil
	}
}

// promotionWaits: the gate decided on commit and holds it back, saying so with every part of want.
func promotionWaits(commit string, want ...string) func(*v1alpha1.Environment) error {
	return func(e *v1alpha1.Environment) error {
		p := e.Status.Promotion
		if p == nil || p.Commit != commit || p.Open {
			return fmt.Errorf("promotion %+v", p)
		}
		for _, w := range want {
			if !strings.Contains(p.Message, w) {
				return fmt.Errorf("promotion message %q does not mention %q", p.Message, w)
			}
		}
		return nil
	}
}

func waitNamespace(t testing.TB, cluster, ns string) {
	t.Helper()
	c := member(t, cluster)
	testenv.Eventually(t, fmt.Sprintf("namespace %s in %s", ns, cluster), func() error {
		return c.Get(context.Background(), types.NamespacedName{Name: ns}, &corev1.Namespace{})
	})
}

// namespaces lists the namespaces of a member cluster whose names start with prefix.
func namespaces(t testing.TB, cluster, prefix string) []string {
	t.Helper()
	list := &corev1.NamespaceList{}
	if err := member(t, cluster).List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range list.Items {
		if strings.HasPrefix(n.Name, prefix) {
			out = append(out, n.Name)
		}
	}
	return out
}

func ensureNamespace(t testing.TB, c client.Client, name string) {
	t.Helper()
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
