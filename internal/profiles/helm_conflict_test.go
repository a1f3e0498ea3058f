package profiles_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// Two profiles wanting the same release in one cluster: with equal tiers the
// first keeps it and the second reports a Conflict naming it; a lower tier takes
// the release over and the previous holder then reports the Conflict.
func TestHelmReleaseConflicts(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	profile := func(name string, tier int32) {
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
		p.Spec.ClusterSelector.MatchLabels = map[string]string{"helm-conflict": "yes"}
		p.Spec.Tier = tier
		p.Spec.HelmCharts = []libv1beta1.HelmChart{{
			RepositoryURL: repo.URL, RepositoryName: "cloudnative-pg", ChartName: "cloudnative-pg/cloudnative-pg",
			ChartVersion: "0.27.1", ReleaseName: "contested", ReleaseNamespace: "helm-conflict",
		}}
		if err := mgmt.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	release := func(want configv1beta1.HelmChartStatus, msgParts ...string) func(*configv1beta1.ClusterSummary) error {
		return func(s *configv1beta1.ClusterSummary) error {
			for _, rs := range s.Status.HelmReleaseSummaries {
				if rs.ReleaseName != "contested" {
					continue
				}
				if rs.Status != want {
					return fmt.Errorf("release is %s (%s), want %s", rs.Status, rs.ConflictMessage, want)
				}
				for _, p := range msgParts {
					if !strings.Contains(rs.ConflictMessage, p) {
						return fmt.Errorf("conflict message %q lacks %q", rs.ConflictMessage, p)
					}
				}
				return nil
			}
			return fmt.Errorf("no summary for the release yet")
		}
	}

	setLabels(t, "app-2", map[string]string{"helm-conflict": "yes"})
	profile("helm-first", 100)
	waitSummary(t, "helm-first", "app-2", release(configv1beta1.HelmChartStatusManaging))
	profile("helm-second", 100)
	waitSummary(t, "helm-second", "app-2", release(configv1beta1.HelmChartStatusConflict, "helm-first"))
	waitSummary(t, "helm-second", "app-2", helmStatus(libv1beta1.FeatureStatusFailed))

	profile("helm-winner", 10)
	waitSummary(t, "helm-winner", "app-2", release(configv1beta1.HelmChartStatusManaging))
	waitSummary(t, "helm-first", "app-2", release(configv1beta1.HelmChartStatusConflict, "helm-winner"))
}
