package profiles_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// valuesFrom: a missing ConfigMap fails the feature naming it; once created its
// values (a template, merged after values, later wins) reach the release; a
// change of the ConfigMap upgrades the release.
func TestHelmValuesFrom(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	const release, ns = "vf-pg", "helm-extra-vf"
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "helm-extra-vf"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"helm-extra-vf": "yes"}
	hc := extraChart(repo.URL, release, ns)
	hc.Values = "replicaCount: 1\npodLabels:\n  from: values\n"
	// No namespace: a ClusterProfile's valuesFrom resolve in the cluster's namespace.
	hc.ValuesFrom = []libv1beta1.ValueFrom{{Kind: "ConfigMap", Name: "helm-extra-values"}}
	p.Spec.HelmCharts = []libv1beta1.HelmChart{hc}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"helm-extra-vf": "yes"})
	waitSummary(t, "helm-extra-vf", "app-2", helmFailedWith("valuesFrom[0]", "ConfigMap fleet/helm-extra-values not found"))

	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "helm-extra-values"},
		Data:       map[string]string{"values.yaml": "replicaCount: 2\npodLabels:\n  helm-extra: '{{ .Cluster.metadata.name }}'\n"},
	}
	if err := mgmt.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, "helm-extra-vf", "app-2", helmStatus(libv1beta1.FeatureStatusProvisioned))

	hr := helmReader(t)
	cfg := env.Cluster("app-2").Config
	rel, err := hr.Release(ctx, cfg, release, ns)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rel.Values["replicaCount"]); got != "2" {
		t.Errorf("release replicaCount %s, want 2 (valuesFrom after values)", got)
	}
	labels, _ := rel.Values["podLabels"].(map[string]any)
	if labels["from"] != "values" || labels["helm-extra"] != "app-2" {
		t.Errorf("release podLabels %v, want from=values (deep merge) and helm-extra=app-2 (rendered)", labels)
	}
	app2 := managedClient(t, "app-2")
	deployment := types.NamespacedName{Namespace: ns, Name: release + "-cloudnative-pg"}
	replicas := func(want int32) func() error {
		return func() error {
			d := &appsv1.Deployment{}
			if err := app2.Get(ctx, deployment, d); err != nil {
				return err
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != want {
				return fmt.Errorf("replicas %v, want %d", d.Spec.Replicas, want)
			}
			if d.Spec.Template.Labels["helm-extra"] != "app-2" {
				return fmt.Errorf("pod labels %v", d.Spec.Template.Labels)
			}
			return nil
		}
	}
	testenv.Eventually(t, "Deployment rendered with the ConfigMap's values", replicas(2))

	// A change of the referenced ConfigMap upgrades the release.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: "helm-extra-values"}, cm); err != nil {
			return err
		}
		cm.Data["values.yaml"] = "replicaCount: 3\npodLabels:\n  helm-extra: '{{ .Cluster.metadata.name }}'\n"
		return mgmt.Update(ctx, cm)
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "release upgraded after the ConfigMap changed", func() error {
		r, err := hr.Release(ctx, cfg, release, ns)
		if err != nil {
			return err
		}
		if r.Revision <= rel.Revision || fmt.Sprint(r.Values["replicaCount"]) != "3" {
			return fmt.Errorf("revision %d (was %d), replicaCount %v", r.Revision, rel.Revision, r.Values["replicaCount"])
		}
		return nil
	})
	testenv.Eventually(t, "Deployment upgraded", replicas(3))
	waitSummary(t, "helm-extra-vf", "app-2", helmStatus(libv1beta1.FeatureStatusProvisioned))
}
