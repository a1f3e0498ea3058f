package gitops_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/sources"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// tugCommand builds the tug binary and returns a function running it against
// the management cluster.
func tugCommand(t *testing.T) func(args ...string) (string, error) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tug")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/tugboat-dev/tugboat/cmd/tug").CombinedOutput(); err != nil {
		t.Fatalf("building tug: %v\n%s", err, out)
	}
	return func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"--kubeconfig", env.Management().KubeconfigPath}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}

// profileWithContent is a ClusterProfile deploying ConfigMap bootstrapped/NAME
// (value v) to the clusters labelled env=prod, and the ConfigMap holding it in
// the management cluster: the two files a platform repository holds for it.
func profileWithContent(name, value string) map[string]string {
	return map[string]string{
		"platform/profiles/" + name + ".yaml": fmt.Sprintf(`apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata:
  name: %[1]s
spec:
  clusterSelector:
    matchLabels:
      env: prod
  policyRefs:
  - kind: ConfigMap
    namespace: tugboat-platform
    name: %[1]s-content
`, name),
		"platform/profiles/" + name + "-content.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %[1]s-content
  namespace: tugboat-platform
data:
  cm.yaml: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: %[1]s
      namespace: bootstrapped
    data:
      value: %[2]q
`, name, value),
	}
}

func exists(c client.Client, obj client.Object, namespace, name string) error {
	return c.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, obj)
}

func gone(c client.Client, obj client.Object, namespace, name string) func() error {
	return func() error {
		if err := exists(c, obj, namespace, name); !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s/%s still there (%v)", namespace, name, err)
		}
		return nil
	}
}

// deployedToProd waits for ConfigMap bootstrapped/name=value in both managed clusters.
func deployedToProd(t *testing.T, name, value string) {
	t.Helper()
	for _, cl := range managed {
		c := managedClient(t, cl)
		testenv.Eventually(t, name+" in "+cl, func() error {
			cm := &corev1.ConfigMap{}
			if err := exists(c, cm, "bootstrapped", name); err != nil {
				return err
			}
			if cm.Data["value"] != value {
				return fmt.Errorf("value %q", cm.Data["value"])
			}
			return nil
		})
	}
}

func deleteAll(objs ...client.Object) {
	for _, o := range objs {
		_ = mgmt.Delete(context.Background(), o)
	}
}

// tug bootstrap git makes a Git repository's platform/ folder the platform's own
// configuration: a ClusterProfile committed there appears in the management
// cluster and deploys to the clusters it selects; a second one too; deleting its
// files withdraws it from the management cluster and its objects from the fleet.
// Running the command twice changes nothing.
func TestBootstrapGit(t *testing.T) {
	tug := tugCommand(t)
	url, err := git.Create("platform")
	if err != nil {
		t.Fatal(err)
	}
	work := gitopstest.Clone(t, url)
	gitopstest.Push(t, work, "main", profileWithContent("git-first", "1"))
	t.Cleanup(func() {
		deleteAll(&configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "platform"}},
			&configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "git-first"}},
			&configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "git-second"}})
	})

	out, err := tug("bootstrap", "git", "--url", url, "--name", "platform", "--interval", "10m")
	if err != nil {
		t.Fatalf("tug bootstrap git: %v\n%s", err, out)
	}
	for _, want := range []string{
		"GitRepository flux-system/platform created (" + url + ", branch main, every 10m0s)",
		"ClusterProfile platform created (deploys platform/ of the repository into SveltosCluster mgmt/mgmt)",
		"kubectl get clustersummaries -n mgmt -owide",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	profile := &configv1beta1.ClusterProfile{}
	if err := exists(mgmt, profile, "", "platform"); err != nil {
		t.Fatal(err)
	}
	if got := profile.Spec.PolicyRefs; len(got) != 1 || got[0].Kind != sources.GitRepository || got[0].Namespace != "flux-system" || got[0].Name != "platform" || got[0].Path != "platform" {
		t.Errorf("policyRefs %+v", got)
	}
	if got := profile.Spec.ClusterRefs; len(got) != 1 || got[0].Namespace != "mgmt" || got[0].Name != "mgmt" || got[0].Kind != libv1beta1.SveltosClusterKind {
		t.Errorf("clusterRefs %+v", got)
	}
	if profile.Spec.StopMatchingBehavior != libv1beta1.LeavePolicies {
		t.Errorf("stopMatchingBehavior %q, want LeavePolicies", profile.Spec.StopMatchingBehavior)
	}

	t.Run("running it twice changes nothing", func(t *testing.T) {
		repo := &unstructured.Unstructured{}
		repo.SetGroupVersionKind(sources.GVK(sources.GitRepository))
		if err := exists(mgmt, repo, "flux-system", "platform"); err != nil {
			t.Fatal(err)
		}
		out, err := tug("bootstrap", "git", "--url", url, "--name", "platform", "--interval", "10m")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "GitRepository flux-system/platform unchanged") || !strings.Contains(out, "ClusterProfile platform unchanged") {
			t.Errorf("second run:\n%s", out)
		}
		after, repoAfter := &configv1beta1.ClusterProfile{}, &unstructured.Unstructured{}
		repoAfter.SetGroupVersionKind(repo.GroupVersionKind())
		if err := exists(mgmt, after, "", "platform"); err != nil {
			t.Fatal(err)
		}
		if err := exists(mgmt, repoAfter, "flux-system", "platform"); err != nil {
			t.Fatal(err)
		}
		if after.Generation != profile.Generation || repoAfter.GetGeneration() != repo.GetGeneration() {
			t.Errorf("generations changed: profile %d → %d, GitRepository %d → %d", profile.Generation, after.Generation, repo.GetGeneration(), repoAfter.GetGeneration())
		}
	})

	t.Run("the committed ClusterProfile appears and deploys to both clusters", func(t *testing.T) {
		testenv.Eventually(t, "ClusterProfile git-first in the management cluster", func() error {
			return exists(mgmt, &configv1beta1.ClusterProfile{}, "", "git-first")
		})
		deployedToProd(t, "git-first", "1")
	})

	ref := sources.Ref{Kind: sources.GitRepository, Namespace: "flux-system", Name: "platform"}
	second := profileWithContent("git-second", "2")
	push(t, work, ref, second)
	t.Run("a second ClusterProfile committed appears and deploys", func(t *testing.T) {
		testenv.Eventually(t, "ClusterProfile git-second in the management cluster", func() error {
			return exists(mgmt, &configv1beta1.ClusterProfile{}, "", "git-second")
		})
		deployedToProd(t, "git-second", "2")
	})

	var files []string
	for f := range second {
		files = append(files, f)
	}
	push(t, work, ref, nil, files...)
	t.Run("deleting its files withdraws it and what it deployed", func(t *testing.T) {
		testenv.Eventually(t, "ClusterProfile git-second withdrawn", gone(mgmt, &configv1beta1.ClusterProfile{}, "", "git-second"))
		testenv.Eventually(t, "its ConfigMap withdrawn", gone(mgmt, &corev1.ConfigMap{}, "tugboat-platform", "git-second-content"))
		for _, cl := range managed {
			testenv.Eventually(t, "git-second withdrawn from "+cl, gone(managedClient(t, cl), &corev1.ConfigMap{}, "bootstrapped", "git-second"))
		}
		deployedToProd(t, "git-first", "1")
	})
}

// The layout tug init platform writes, pushed and bootstrapped, is created in
// the management cluster and deploys: a cluster labelled env=development gets
// the example profile's namespace and ConfigMap, and a namespace labelled
// tugboat.dev/quota=standard there gets the example event trigger's quota.
func TestBootstrapInitPlatform(t *testing.T) {
	ctx := context.Background()
	tug := tugCommand(t)
	dir := filepath.Join(t.TempDir(), "starter")
	if out, err := tug("init", "platform", dir); err != nil {
		t.Fatalf("tug init platform: %v\n%s", err, out)
	}
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	url, err := git.Create("starter")
	if err != nil {
		t.Fatal(err)
	}
	gitopstest.Push(t, gitopstest.Clone(t, url), "main", files)

	// A development cluster: prod-1's API server registered a second time.
	dev := types.NamespacedName{Namespace: "dev", Name: "dev-1"}
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: dev.Namespace, Name: dev.Name,
		Kubeconfig: env.Cluster("prod-1").Kubeconfig, Labels: map[string]string{"env": "development"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deleteAll(&configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "starter-platform"}},
			&configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "development-baseline"}},
			&configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "staging-baseline"}},
			&configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "production-baseline"}},
			&libv1beta1.EventTrigger{ObjectMeta: metav1.ObjectMeta{Name: "namespace-quota"}})
		_ = clusters.Deregister(context.Background(), mgmt, dev)
	})

	if out, err := tug("bootstrap", "git", "--url", url, "--name", "starter-platform"); err != nil {
		t.Fatalf("tug bootstrap git: %v\n%s", err, out)
	}
	t.Run("the examples are created in the management cluster", func(t *testing.T) {
		for what, obj := range map[string]client.Object{
			"development-baseline":     &configv1beta1.ClusterProfile{},
			"namespaces-wanting-quota": &libv1beta1.EventSource{},
			"namespace-quota":          &libv1beta1.EventTrigger{},
		} {
			testenv.Eventually(t, what+" in the management cluster", func() error { return exists(mgmt, obj, "", what) })
		}
	})
	prod1 := managedClient(t, "prod-1")
	t.Run("the example profile deploys to the development cluster", func(t *testing.T) {
		testenv.Eventually(t, "team-tools/platform-info", func() error {
			cm := &corev1.ConfigMap{}
			if err := exists(prod1, cm, "team-tools", "platform-info"); err != nil {
				return err
			}
			if cm.Data["environment"] != "development" {
				return fmt.Errorf("data %v", cm.Data)
			}
			return nil
		})
	})
	t.Run("the example event trigger deploys a quota", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"tugboat.dev/quota": "standard"}}}
		if err := prod1.Create(ctx, ns); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "ResourceQuota team-a/standard", func() error {
			q := &corev1.ResourceQuota{}
			if err := exists(prod1, q, "team-a", "standard"); err != nil {
				return err
			}
			if pods := q.Spec.Hard[corev1.ResourcePods]; pods.String() != "20" {
				return fmt.Errorf("pods %s", pods.String())
			}
			return nil
		})
	})
}
