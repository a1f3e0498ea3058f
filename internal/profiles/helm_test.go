package profiles_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The tutorial's cloudnative-pg.yaml, with only repositoryURL pointed at a local
// chart repository: a type=services cluster gets the cnpg release; removing the
// label uninstalls it.
func TestTutorialHelmChartReachesServicesCluster(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	const path = "cloudnative-pg.yaml"
	manifest := testenv.Fixture(t, path)
	const upstream = "https://cloudnative-pg.github.io/charts"
	if !strings.Contains(string(manifest), upstream) {
		t.Fatalf("%s does not use %s", path, upstream)
	}
	applyYAML(t, []byte(strings.Replace(string(manifest), upstream, repo.URL, 1)))
	setLabels(t, "app-1", map[string]string{"type": "services"})

	s := waitSummary(t, "deploy-cnpg", "app-1", helmStatus(libv1beta1.FeatureStatusProvisioned))
	if len(s.Status.HelmReleaseSummaries) != 1 {
		t.Fatalf("helmReleaseSummaries: %+v", s.Status.HelmReleaseSummaries)
	}
	if rs := s.Status.HelmReleaseSummaries[0]; rs.ReleaseName != "cnpg" || rs.ReleaseNamespace != "cnpg-system" ||
		rs.Status != configv1beta1.HelmChartStatusManaging || len(rs.ValuesHash) == 0 {
		t.Errorf("helmReleaseSummaries[0]: %+v", rs)
	}
	app1 := managedClient(t, "app-1")
	secrets, err := releaseSecrets(app1, "cnpg-system", "cnpg")
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) == 0 {
		t.Fatal("no Helm release Secret for cnpg in cnpg-system on app-1")
	}
	operator := types.NamespacedName{Namespace: "cnpg-system", Name: "cnpg-cloudnative-pg"}
	if err := app1.Get(ctx, operator, &appsv1.Deployment{}); err != nil {
		t.Fatalf("operator Deployment: %v", err)
	}
	// app-2 does not match.
	if secrets, err := releaseSecrets(managedClient(t, "app-2"), "cnpg-system", "cnpg"); err != nil || len(secrets) != 0 {
		t.Errorf("app-2: release Secrets %d, %v", len(secrets), err)
	}

	setLabels(t, "app-1", map[string]string{"type": ""})
	testenv.Eventually(t, "cnpg uninstalled from app-1", func() error {
		if err := notFound(app1, &appsv1.Deployment{}, operator); err != nil {
			return err
		}
		secrets, err := releaseSecrets(app1, "cnpg-system", "cnpg")
		if err != nil {
			return err
		}
		if len(secrets) != 0 {
			return fmt.Errorf("%d release Secrets left", len(secrets))
		}
		return notFound(mgmt, &configv1beta1.ClusterSummary{}, types.NamespacedName{
			Namespace: "fleet", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "deploy-cnpg", "app-1"),
		})
	})
}
