package profiles_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// DryRun with Helm charts and policyRefs: the ClusterReport says a release would
// be installed (in helmResourceReports) and an object created (in
// resourceReports) — each feature its own list — and nothing is installed.
func TestDryRunReportsHelmAndResources(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	policyConfigMap(t, "dryrun-helm-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry", "namespace": "dryrun-helm"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "dryrun-helm"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"dryrun-helm": "yes"}
	p.Spec.SyncMode = libv1beta1.SyncModeDryRun
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "dryrun-helm-cm"}}
	p.Spec.HelmCharts = []libv1beta1.HelmChart{{
		RepositoryURL: repo.URL, RepositoryName: "cloudnative-pg", ChartName: "cloudnative-pg/cloudnative-pg",
		ChartVersion: "0.27.1", ReleaseName: "dry", ReleaseNamespace: "dryrun-helm",
	}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"dryrun-helm": "yes"})
	testenv.Eventually(t, "both reports", func() error {
		r := &configv1beta1.ClusterReport{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: configv1beta1.ClusterReportName(configv1beta1.ClusterProfileKind, "dryrun-helm", "app-2")}, r); err != nil {
			return err
		}
		if len(r.Status.HelmResourceReports) != 1 || r.Status.HelmResourceReports[0].Action != configv1beta1.ReportActionCreate ||
			!strings.Contains(r.Status.HelmResourceReports[0].Resource, "dryrun-helm/dry") {
			return fmt.Errorf("helm reports %+v", r.Status.HelmResourceReports)
		}
		for _, rr := range r.Status.ResourceReports {
			if rr.Action == configv1beta1.ReportActionCreate && strings.Contains(rr.Resource, "kind: ConfigMap") && strings.Contains(rr.Resource, `name: "dry"`) {
				return nil
			}
		}
		return fmt.Errorf("resource reports %+v", r.Status.ResourceReports)
	})
	secrets, err := releaseSecrets(managedClient(t, "app-2"), "dryrun-helm", "dry")
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 0 {
		t.Errorf("a dry run installed the release (%d release records)", len(secrets))
	}
}
