package profiles_test

import (
	"context"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// An unknown chart version and an invalid values template fail the Helm feature
// with the cause, and leave the installed release as it was.
func TestHelmFailuresLeaveReleaseUntouched(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	const release, ns = "fail-pg", "helm-extra-fail"
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "helm-extra-fail"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"helm-extra-fail": "yes"}
	p.Spec.HelmCharts = []libv1beta1.HelmChart{extraChart(repo.URL, release, ns)}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"helm-extra-fail": "yes"})
	waitSummary(t, "helm-extra-fail", "app-2", helmStatus(libv1beta1.FeatureStatusProvisioned))

	hr := helmReader(t)
	cfg := env.Cluster("app-2").Config
	before, err := hr.Release(ctx, cfg, release, ns)
	if err != nil {
		t.Fatal(err)
	}
	untouched := func(what string) {
		t.Helper()
		r, err := hr.Release(ctx, cfg, release, ns)
		if err != nil {
			t.Fatal(err)
		}
		if r.Revision != before.Revision || r.ChartVersion != "0.27.1" || r.Status != "deployed" || r.ValuesHash != before.ValuesHash {
			t.Errorf("%s: release is revision %d chart %s status %s, want revision %d chart 0.27.1 deployed, values unchanged",
				what, r.Revision, r.ChartVersion, r.Status, before.Revision)
		}
	}

	updateClusterProfile(t, "helm-extra-fail", func(p *configv1beta1.ClusterProfile) {
		p.Spec.HelmCharts[0].ChartVersion = "9.9.9"
	})
	waitSummary(t, "helm-extra-fail", "app-2", helmFailedWith(ns+"/"+release, "9.9.9"))
	untouched("unknown chart version")

	updateClusterProfile(t, "helm-extra-fail", func(p *configv1beta1.ClusterProfile) {
		p.Spec.HelmCharts[0].ChartVersion = "0.27.1"
		p.Spec.HelmCharts[0].Values = "replicaCount: {{ .Cluster.metadata.nosuchfield }}\n"
	})
	waitSummary(t, "helm-extra-fail", "app-2", helmFailedWith("cloudnative-pg/cloudnative-pg", ns+"/"+release, "values", "nosuchfield"))
	untouched("invalid values template")

	// Fixed input: provisioned again, still no new revision (nothing changed).
	updateClusterProfile(t, "helm-extra-fail", func(p *configv1beta1.ClusterProfile) {
		p.Spec.HelmCharts[0].Values = ""
	})
	s := waitSummary(t, "helm-extra-fail", "app-2", helmStatus(libv1beta1.FeatureStatusProvisioned))
	if fs := s.FeatureSummary(libv1beta1.FeatureHelm); fs.FailureMessage != nil {
		t.Errorf("failure message left: %s", *fs.FailureMessage)
	}
	untouched("after the fix")
}
