package gitops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
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

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/sources"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

func configMapYAML(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: apps\ndata:\n  value: %q\n", name, value)
}

// newSource creates a repository on the Git server holding files, and a
// GitRepository flux-system/NAME following its main branch.
func newSource(t *testing.T, name string, files map[string]string) (work string, ref sources.Ref) {
	t.Helper()
	ctx := context.Background()
	url, err := git.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	work = gitopstest.Clone(t, url)
	gitopstest.Push(t, work, "main", files)
	if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flux-system"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	repo := &unstructured.Unstructured{}
	repo.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	repo.SetNamespace("flux-system")
	repo.SetName(name)
	repo.Object["spec"] = map[string]any{"url": url, "interval": "10m", "ref": map[string]any{"branch": "main"}}
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	return work, sources.Ref{Kind: sources.GitRepository, Namespace: "flux-system", Name: name}
}

// push commits to the repository and asks source-controller to fetch at once
// (its interval is long; a Git webhook would do the same).
func push(t *testing.T, work string, ref sources.Ref, write map[string]string, remove ...string) string {
	t.Helper()
	commit := gitopstest.Push(t, work, "main", write, remove...)
	if err := sources.RequestReconcile(context.Background(), mgmt, ref, time.Now()); err != nil {
		t.Fatal(err)
	}
	return commit
}

func managedClient(t *testing.T, name string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(name).Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// configMapValue is the value of ConfigMap apps/name in a managed cluster.
func configMapValue(c client.Client, name string) (string, error) {
	cm := &corev1.ConfigMap{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "apps", Name: name}, cm); err != nil {
		return "", err
	}
	return cm.Data["value"], nil
}

// waitConfigMapValue waits until ConfigMap apps/cm in cluster (client c) has
// value want.
func waitConfigMapValue(t *testing.T, c client.Client, cluster, cm, want string) {
	t.Helper()
	testenv.Eventually(t, cm+"="+want+" in "+cluster, func() error {
		if got, err := configMapValue(c, cm); err != nil || got != want {
			return fmt.Errorf("%s: %q, %v", cm, got, err)
		}
		return nil
	})
}

func summaryOf(profile, cluster string) (*configv1beta1.ClusterSummary, error) {
	s := &configv1beta1.ClusterSummary{}
	name := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, profile, cluster)
	err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "fleet", Name: name}, s)
	return s, err
}

// resources is the Resources feature of a summary, or nil.
func resources(s *configv1beta1.ClusterSummary) *configv1beta1.FeatureSummary {
	for i := range s.Status.FeatureSummaries {
		if s.Status.FeatureSummaries[i].FeatureID == libv1beta1.FeatureResources {
			return &s.Status.FeatureSummaries[i]
		}
	}
	return nil
}

// A ClusterProfile whose policyRefs name a GitRepository path deploys the
// manifests there to every matching cluster; a commit changing one value reaches
// both clusters and the summaries record the new revision; deleting a file
// withdraws its object.
func TestPolicyRefsFromGitRepository(t *testing.T) {
	ctx := context.Background()
	work, ref := newSource(t, "fleet", map[string]string{
		"deploy/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
		"deploy/one.yaml":       configMapYAML("one", "1"),
		"deploy/two.yaml":       configMapYAML("two", "2"),
		"deploy/README.md":      "not a manifest\n",
		"deploy/templated.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: templated\n  namespace: apps\n  annotations:\n    projectsveltos.io/template: ok\ndata:\n  value: '{{ .Cluster.metadata.name }}'\n",
		"other/ignored.yaml":    configMapYAML("ignored", "x"),
	})
	cp := &configv1beta1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "from-git"},
		Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
			PolicyRefs:      []libv1beta1.PolicyRef{{Kind: sources.GitRepository, Namespace: "flux-system", Name: "fleet", Path: "deploy"}},
		},
	}
	if err := mgmt.Create(ctx, cp); err != nil {
		t.Fatal(err)
	}

	t.Run("the manifests arrive in both clusters", func(t *testing.T) {
		for _, name := range managed {
			c := managedClient(t, name)
			testenv.Eventually(t, "ConfigMaps one and two in "+name, func() error {
				for cm, want := range map[string]string{"one": "1", "two": "2"} {
					if got, err := configMapValue(c, cm); err != nil || got != want {
						return fmt.Errorf("%s: %q, %v", cm, got, err)
					}
				}
				return nil
			})
			if got, err := configMapValue(c, "templated"); err != nil || got != name {
				t.Errorf("%s: the templated file gave %q (%v), want the cluster's name", name, got, err)
			}
			if _, err := configMapValue(c, "ignored"); !apierrors.IsNotFound(err) {
				t.Errorf("%s: a file outside the path was deployed (%v)", name, err)
			}
		}
	})

	commit := push(t, work, ref, map[string]string{"deploy/one.yaml": configMapYAML("one", "uno")})
	t.Run("a commit reaches both clusters and the summaries record its revision", func(t *testing.T) {
		for _, name := range managed {
			waitConfigMapValue(t, managedClient(t, name), name, "one", "uno")
			testenv.Eventually(t, "the revision in the summary of "+name, func() error {
				s, err := summaryOf("from-git", name)
				if err != nil {
					return err
				}
				fs := resources(s)
				if fs == nil || len(fs.SourceRevisions) != 1 || !strings.HasSuffix(fs.SourceRevisions[0].Revision, commit) ||
					fs.SourceRevisions[0].Kind != sources.GitRepository || fs.SourceRevisions[0].Name != "fleet" {
					return fmt.Errorf("sourceRevisions %+v, want fleet at …%s", fs, commit)
				}
				return nil
			})
		}
	})

	t.Run("tug show addons names the revision", func(t *testing.T) {
		rows := showAddons(t)
		for _, name := range managed {
			found := false
			for _, r := range rows {
				if r.Cluster == "fleet/"+name && r.ResourceType == ":ConfigMap" && r.Namespace == "apps" && r.Name == "one" {
					found = true
					if !strings.HasSuffix(r.Version, commit) {
						t.Errorf("%s: ConfigMap apps/one at version %q, want the revision …%s", name, r.Version, commit)
					}
				}
			}
			if !found {
				t.Errorf("no row for ConfigMap apps/one in %s: %+v", name, rows)
			}
		}
	})

	push(t, work, ref, nil, "deploy/two.yaml")
	t.Run("deleting a file withdraws its object", func(t *testing.T) {
		for _, name := range managed {
			c := managedClient(t, name)
			testenv.Eventually(t, "two withdrawn from "+name, func() error {
				if _, err := configMapValue(c, "two"); !apierrors.IsNotFound(err) {
					return fmt.Errorf("two still there (%v)", err)
				}
				return nil
			})
			if got, err := configMapValue(c, "one"); err != nil || got != "uno" {
				t.Errorf("%s: one is %q, %v", name, got, err)
			}
		}
	})
}

// showAddons runs `tug show addons -o json` (built from this checkout) against the
// management cluster.
func showAddons(t *testing.T) []addonRow {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tug := filepath.Join(t.TempDir(), "tug")
	build := exec.Command("go", "build", "-o", tug, "./cmd/tug")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building tug: %v\n%s", err, out)
	}
	out, err := exec.Command(tug, "--kubeconfig", env.Management().KubeconfigPath, "show", "addons", "-o", "json").Output()
	if err != nil {
		t.Fatalf("tug show addons: %v", err)
	}
	var rows []addonRow
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("tug show addons -o json: %v\n%s", err, out)
	}
	return rows
}

// addonRow is a row of `tug show addons -o json`.
type addonRow struct {
	Cluster      string `json:"cluster"`
	ResourceType string `json:"resourceType"`
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	Version      string `json:"version"`
}
