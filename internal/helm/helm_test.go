package helm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"services", "services-b"}}, &env))
}

var (
	secretsGVR    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	configMapsGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deploymentGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	crdGVR        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	pgClusterGVR  = schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}
)

// chartsDir is test/charts of the repository.
func chartsDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "test", "charts")
}

// fixtureChart is the helmCharts entry of the tutorial's cloudnative-pg.yaml with
// repositoryURL pointed at repoURL.
func fixtureChart(t *testing.T, repoURL string) libv1beta1.HelmChart {
	t.Helper()
	const path = "cloudnative-pg.yaml"
	data := testenv.Fixture(t, path)
	var cp configv1beta1.ClusterProfile
	if err := yaml.Unmarshal(data, &cp); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(cp.Spec.HelmCharts) != 1 {
		t.Fatalf("%s: want one helm chart, got %d", path, len(cp.Spec.HelmCharts))
	}
	hc := cp.Spec.HelmCharts[0]
	hc.RepositoryURL = repoURL
	return hc
}

func newClient(t *testing.T) *helm.Client {
	t.Helper()
	c, err := helm.New(t.TempDir(), helm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dyn(t *testing.T, cfg *rest.Config) *dynamic.DynamicClient {
	t.Helper()
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func get(t *testing.T, cfg *rest.Config, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	t.Helper()
	var ri dynamic.ResourceInterface = dyn(t, cfg).Resource(gvr)
	if ns != "" {
		ri = dyn(t, cfg).Resource(gvr).Namespace(ns)
	}
	return ri.Get(context.Background(), name, metav1.GetOptions{})
}

func mustExist(t *testing.T, cfg *rest.Config, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := get(t, cfg, gvr, ns, name)
	if err != nil {
		t.Fatalf("%s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return obj
}

func mustBeGone(t *testing.T, cfg *rest.Config, gvr schema.GroupVersionResource, ns, name string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("%s %s/%s deleted", gvr.Resource, ns, name), func() error {
		obj, err := get(t, cfg, gvr, ns, name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there (deletionTimestamp %v)", obj.GetDeletionTimestamp())
	})
}

// releaseSecrets lists Helm's storage Secrets of a release.
func releaseSecrets(t *testing.T, cfg *rest.Config, ns, release string) []string {
	t.Helper()
	list, err := dyn(t, cfg).Resource(secretsGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: "owner=helm,name=" + release,
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list.Items {
		names = append(names, s.GetName())
	}
	return names
}

// uninstallFromBoth uninstalls release namespace/name from the clusters
// services and services-b, which share a chart cache in the tests that use
// both.
func uninstallFromBoth(t *testing.T, c *helm.Client, name, namespace string) {
	t.Helper()
	for _, cluster := range []string{"services", "services-b"} {
		if err := c.Uninstall(context.Background(), env.Cluster(cluster).Config, name, namespace, false); err != nil {
			t.Fatal(err)
		}
	}
}

func apply(t *testing.T, c *helm.Client, cfg *rest.Config, hc libv1beta1.HelmChart, values map[string]any, want helm.Action) *helm.Release {
	t.Helper()
	res, err := c.Apply(context.Background(), cfg, hc, values)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.Action != want {
		t.Fatalf("apply: action %s, want %s", res.Action, want)
	}
	if res.Release == nil {
		t.Fatal("apply: no release in result")
	}
	return res.Release
}

// TestFixtureChartLifecycle follows the tutorial's cloudnative-pg profile through
// install, no-op, version bump, values change and uninstall.
func TestFixtureChartLifecycle(t *testing.T) {
	repo := chartrepo.Start(t, chartsDir(t))
	cfg := env.Cluster("services").Config
	c := newClient(t)
	hc := fixtureChart(t, repo.URL)
	if hc.ReleaseName != "cnpg" || hc.ReleaseNamespace != "cnpg-system" || hc.ChartVersion != "0.27.1" {
		t.Fatalf("unexpected fixture chart: %+v", hc)
	}

	rel := apply(t, c, cfg, hc, nil, helm.ActionInstalled)
	if rel.Revision != 1 || rel.Status != "deployed" || rel.ChartName != "cloudnative-pg" || rel.ChartVersion != "0.27.1" {
		t.Fatalf("installed release: %+v", rel)
	}
	if got := releaseSecrets(t, cfg, "cnpg-system", "cnpg"); len(got) != 1 || got[0] != "sh.helm.release.v1.cnpg.v1" {
		t.Fatalf("release secrets: %v", got)
	}
	mustExist(t, cfg, deploymentGVR, "cnpg-system", "cnpg-cloudnative-pg")
	mustExist(t, cfg, crdGVR, "", "clusters.postgresql.cnpg.io")
	kinds := map[string]string{}
	for _, o := range rel.Objects {
		kinds[o.GetKind()+"/"+o.GetName()] = o.GetNamespace()
	}
	if kinds["Deployment/cnpg-cloudnative-pg"] != "cnpg-system" || kinds["ServiceAccount/cnpg-cloudnative-pg"] != "cnpg-system" {
		t.Fatalf("release objects: %v", kinds)
	}

	// The CRD accepts the tutorial's kind of Cluster.
	pg := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "postgresql.cnpg.io/v1",
		"kind":       "Cluster",
		"metadata":   map[string]any{"name": "pg", "namespace": "cnpg-system"},
		"spec": map[string]any{
			"instances": int64(3),
			"storage":   map[string]any{"size": "1Gi"},
		},
	}}
	testenv.Eventually(t, "create a postgresql.cnpg.io Cluster", func() error {
		_, err := dyn(t, cfg).Resource(pgClusterGVR).Namespace("cnpg-system").Create(context.Background(), pg, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	})

	// Same chart, same values: no Helm action, no new revision.
	rel = apply(t, c, cfg, hc, map[string]any{}, helm.ActionUnchanged)
	if rel.Revision != 1 {
		t.Fatalf("unchanged release revision %d", rel.Revision)
	}
	if got := releaseSecrets(t, cfg, "cnpg-system", "cnpg"); len(got) != 1 {
		t.Fatalf("release secrets after no-op: %v", got)
	}

	// Version bump: upgrade to revision 2 with 0.27.2's new ConfigMap.
	hc.ChartVersion = "0.27.2"
	rel = apply(t, c, cfg, hc, nil, helm.ActionUpgraded)
	if rel.Revision != 2 || rel.ChartVersion != "0.27.2" || rel.Status != "deployed" {
		t.Fatalf("upgraded release: %+v", rel)
	}
	mustExist(t, cfg, configMapsGVR, "cnpg-system", "cnpg-cloudnative-pg-config")
	apply(t, c, cfg, hc, nil, helm.ActionUnchanged)

	// Values change: upgrade, and the values reach the objects.
	values := map[string]any{"replicaCount": 2, "podLabels": map[string]any{"tier": "db"}}
	rel = apply(t, c, cfg, hc, values, helm.ActionUpgraded)
	if rel.Revision != 3 {
		t.Fatalf("values upgrade revision %d", rel.Revision)
	}
	dep := mustExist(t, cfg, deploymentGVR, "cnpg-system", "cnpg-cloudnative-pg")
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 2 {
		t.Fatalf("deployment replicas %d, want 2", r)
	}
	want, err := helm.ValuesHash(values)
	if err != nil {
		t.Fatal(err)
	}
	if rel.ValuesHash != want || rel.RequestedValuesHash != want {
		t.Fatalf("values hash %s / requested %s, want %s", rel.ValuesHash, rel.RequestedValuesHash, want)
	}
	// The same values in another key order, with JSON-ish numbers: still unchanged.
	apply(t, c, cfg, hc, map[string]any{"podLabels": map[string]any{"tier": "db"}, "replicaCount": float64(2)}, helm.ActionUnchanged)

	// Dropping every value goes back to the chart's defaults (Helm would otherwise
	// keep the previous values) and is then stable.
	rel = apply(t, c, cfg, hc, nil, helm.ActionUpgraded)
	if rel.Revision != 4 || len(rel.Values) != 0 {
		t.Fatalf("reset release: revision %d values %v", rel.Revision, rel.Values)
	}
	apply(t, c, cfg, hc, nil, helm.ActionUnchanged)
	// Default maxHistory (2) prunes older revisions.
	if got := releaseSecrets(t, cfg, "cnpg-system", "cnpg"); len(got) != libv1beta1.DefaultHelmMaxHistory {
		t.Fatalf("release secrets with maxHistory %d: %v", libv1beta1.DefaultHelmMaxHistory, got)
	}

	// Uninstall removes the release record and the objects (not the CRD: Helm never
	// deletes crds/).
	if err := c.Uninstall(context.Background(), cfg, "cnpg", "cnpg-system", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Release(context.Background(), cfg, "cnpg", "cnpg-system"); !errors.Is(err, helm.ErrReleaseNotFound) {
		t.Fatalf("release after uninstall: %v", err)
	}
	if got := releaseSecrets(t, cfg, "cnpg-system", "cnpg"); len(got) != 0 {
		t.Fatalf("release secrets after uninstall: %v", got)
	}
	mustBeGone(t, cfg, deploymentGVR, "cnpg-system", "cnpg-cloudnative-pg")
	mustBeGone(t, cfg, configMapsGVR, "cnpg-system", "cnpg-cloudnative-pg-config")
	mustExist(t, cfg, crdGVR, "", "clusters.postgresql.cnpg.io")

	// Uninstalling again is not an error.
	if err := c.Uninstall(context.Background(), cfg, "cnpg", "cnpg-system", false); err != nil {
		t.Fatalf("second uninstall: %v", err)
	}
}

func TestUninstallKeepHistory(t *testing.T) {
	repo := chartrepo.Start(t, chartsDir(t))
	cfg := env.Cluster("services").Config
	c := newClient(t)
	hc := fixtureChart(t, repo.URL)
	hc.ReleaseName, hc.ReleaseNamespace = "keep", "keep-history"
	hc.Options = &libv1beta1.HelmOptions{UninstallOptions: libv1beta1.HelmUninstallOptions{KeepHistory: true}}

	apply(t, c, cfg, hc, nil, helm.ActionInstalled)
	if err := c.UninstallChart(context.Background(), cfg, hc); err != nil {
		t.Fatal(err)
	}
	rel, err := c.Release(context.Background(), cfg, "keep", "keep-history")
	if err != nil {
		t.Fatalf("release record after uninstall with keepHistory: %v", err)
	}
	if rel.Status != "uninstalled" || rel.Revision != 1 {
		t.Fatalf("kept release: status %s revision %d", rel.Status, rel.Revision)
	}
	if got := releaseSecrets(t, cfg, "keep-history", "keep"); len(got) != 1 {
		t.Fatalf("kept release secrets: %v", got)
	}
	mustBeGone(t, cfg, deploymentGVR, "keep-history", "keep-cloudnative-pg")
	// Uninstalling again keeps the record and is not an error.
	if err := c.Uninstall(context.Background(), cfg, "keep", "keep-history", true); err != nil {
		t.Fatalf("second uninstall: %v", err)
	}

	// Applying again reinstalls over the kept record.
	rel = apply(t, c, cfg, hc, nil, helm.ActionInstalled)
	if rel.Revision != 2 || rel.Status != "deployed" {
		t.Fatalf("reinstalled release: revision %d status %s", rel.Revision, rel.Status)
	}
	mustExist(t, cfg, deploymentGVR, "keep-history", "keep-cloudnative-pg")
	if err := c.Uninstall(context.Background(), cfg, "keep", "keep-history", false); err != nil {
		t.Fatal(err)
	}
	if got := releaseSecrets(t, cfg, "keep-history", "keep"); len(got) != 0 {
		t.Fatalf("release secrets after purge: %v", got)
	}
}

func TestMissingChartVersion(t *testing.T) {
	repo := chartrepo.Start(t, chartsDir(t))
	cfg := env.Cluster("services").Config
	c := newClient(t)
	hc := fixtureChart(t, repo.URL)
	hc.ReleaseName, hc.ReleaseNamespace = "missing", "missing-version"

	apply(t, c, cfg, hc, nil, helm.ActionInstalled)
	indexFetches := repo.Requests("/index.yaml")

	hc.ChartVersion = "9.9.9"
	_, err := c.Apply(context.Background(), cfg, hc, nil)
	if err == nil {
		t.Fatal("apply of a missing version succeeded")
	}
	t.Logf("missing version: %v", err)
	if !errors.Is(err, helm.ErrChartVersionNotFound) {
		t.Fatalf("error does not wrap ErrChartVersionNotFound: %v", err)
	}
	for _, want := range []string{"missing-version/missing", "cloudnative-pg", "9.9.9", "available: 0.27.1, 0.27.2", repo.URL} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The cached index lacked the version, so it was fetched again.
	if got := repo.Requests("/index.yaml"); got != indexFetches+1 {
		t.Errorf("index fetched %d times after a miss, want %d", got, indexFetches+1)
	}
	// The deployed release is untouched.
	rel, err := c.Release(context.Background(), cfg, "missing", "missing-version")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision != 1 || rel.Status != "deployed" || rel.ChartVersion != "0.27.1" {
		t.Fatalf("release after failed apply: %+v", rel)
	}

	// An unreachable repository: same story.
	hc.ChartVersion = "0.27.2"
	hc.RepositoryURL = "http://127.0.0.1:1"
	if _, err := c.Apply(context.Background(), cfg, hc, nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("apply from an unreachable repository: %v", err)
	}
	rel, err = c.Release(context.Background(), cfg, "missing", "missing-version")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision != 1 || rel.Status != "deployed" {
		t.Fatalf("release after unreachable repository: %+v", rel)
	}
	if err := c.Uninstall(context.Background(), cfg, "missing", "missing-version", false); err != nil {
		t.Fatal(err)
	}
}

func TestOneDownloadServesEveryCluster(t *testing.T) {
	repo := chartrepo.Start(t, chartsDir(t))
	cache := t.TempDir()
	c, err := helm.New(cache, helm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hc := fixtureChart(t, repo.URL)
	hc.ReleaseName, hc.ReleaseNamespace = "shared", "shared-download"

	for _, name := range []string{"services", "services-b"} {
		rel := apply(t, c, env.Cluster(name).Config, hc, nil, helm.ActionInstalled)
		if rel.Revision != 1 {
			t.Fatalf("%s: revision %d", name, rel.Revision)
		}
		mustExist(t, env.Cluster(name).Config, deploymentGVR, "shared-download", "shared-cloudnative-pg")
	}
	if got := repo.Downloads("cloudnative-pg", "0.27.1"); got != 1 {
		t.Fatalf("chart downloaded %d times for two clusters, want 1", got)
	}
	if got := repo.Requests("/index.yaml"); got != 1 {
		t.Fatalf("index fetched %d times, want 1", got)
	}

	// A new client on the same cache dir (a restarted manager) downloads nothing.
	c2, err := helm.New(cache, helm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"services", "services-b"} {
		if err := c.Uninstall(context.Background(), env.Cluster(name).Config, "shared", "shared-download", false); err != nil {
			t.Fatal(err)
		}
		apply(t, c2, env.Cluster(name).Config, hc, nil, helm.ActionInstalled)
	}
	if got := repo.Downloads("cloudnative-pg", "0.27.1"); got != 1 {
		t.Fatalf("chart downloaded %d times with a warm disk cache, want 1", got)
	}
	uninstallFromBoth(t, c2, "shared", "shared-download")
}

func TestOCIRegistry(t *testing.T) {
	repo := chartrepo.Start(t, chartsDir(t))
	c, err := helm.New(t.TempDir(), helm.Options{PlainHTTPRegistries: true})
	if err != nil {
		t.Fatal(err)
	}
	hc := libv1beta1.HelmChart{
		RepositoryURL:    repo.OCIURL,
		RepositoryName:   "local-oci",
		ChartName:        "cloudnative-pg",
		ChartVersion:     "0.27.1",
		ReleaseName:      "oci",
		ReleaseNamespace: "oci-install",
	}
	for _, name := range []string{"services", "services-b"} {
		rel := apply(t, c, env.Cluster(name).Config, hc, nil, helm.ActionInstalled)
		if rel.ChartName != "cloudnative-pg" || rel.ChartVersion != "0.27.1" {
			t.Fatalf("%s: release %+v", name, rel)
		}
		mustExist(t, env.Cluster(name).Config, deploymentGVR, "oci-install", "oci-cloudnative-pg")
	}
	if got := repo.OCIPulls("cloudnative-pg", "0.27.1"); got != 1 {
		t.Fatalf("chart layer pulled %d times for two clusters, want 1", got)
	}

	hc.ChartVersion = "0.27.2"
	rel := apply(t, c, env.Cluster("services").Config, hc, nil, helm.ActionUpgraded)
	if rel.Revision != 2 || rel.ChartVersion != "0.27.2" {
		t.Fatalf("upgraded release: %+v", rel)
	}

	hc.ChartVersion = "9.9.9"
	_, err = c.Apply(context.Background(), env.Cluster("services").Config, hc, nil)
	if err == nil || !strings.Contains(err.Error(), "9.9.9") || !strings.Contains(err.Error(), "oci-install/oci") {
		t.Fatalf("missing OCI tag: %v", err)
	}
	t.Logf("missing OCI tag: %v", err)
	uninstallFromBoth(t, c, "oci", "oci-install")
}

func TestFailedUpgradeKeepsDeployedObjects(t *testing.T) {
	repo := chartrepo.Start(t, chartsDir(t))
	cfg := env.Cluster("services").Config
	c := newClient(t)
	hc := fixtureChart(t, repo.URL)
	hc.ReleaseName, hc.ReleaseNamespace = "broken", "failed-upgrade"

	apply(t, c, cfg, hc, nil, helm.ActionInstalled)
	_, err := c.Apply(context.Background(), cfg, hc, map[string]any{"replicaCount": "many"})
	if err == nil {
		t.Fatal("upgrade with an invalid replica count succeeded")
	}
	t.Logf("invalid values: %v", err)
	for _, want := range []string{"failed-upgrade/broken", "cloudnative-pg", "upgrade"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	dep := mustExist(t, cfg, deploymentGVR, "failed-upgrade", "broken-cloudnative-pg")
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 1 {
		t.Fatalf("deployment replicas %d after failed upgrade, want 1", r)
	}
	hist, err := c.History(context.Background(), cfg, "broken", "failed-upgrade")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Status != "deployed" || hist[1].Status != "failed" {
		t.Fatalf("history after failed upgrade: %+v", hist)
	}

	// The failed revision is retried even with the very same chart and values as
	// the deployed one.
	rel := apply(t, c, cfg, hc, nil, helm.ActionUpgraded)
	if rel.Revision != 3 || rel.Status != "deployed" {
		t.Fatalf("recovered release: revision %d status %s", rel.Revision, rel.Status)
	}
	apply(t, c, cfg, hc, nil, helm.ActionUnchanged)
	if err := c.Uninstall(context.Background(), cfg, "broken", "failed-upgrade", false); err != nil {
		t.Fatal(err)
	}
}

// TestSkipCRDs deletes the chart's CRD, so it runs last.
func TestSkipCRDs(t *testing.T) {
	repo := chartrepo.Start(t, chartsDir(t))
	cfg := env.Cluster("services-b").Config
	c := newClient(t)
	if err := dyn(t, cfg).Resource(crdGVR).Delete(context.Background(), "clusters.postgresql.cnpg.io", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	mustBeGone(t, cfg, crdGVR, "", "clusters.postgresql.cnpg.io")

	hc := fixtureChart(t, repo.URL)
	hc.ReleaseName, hc.ReleaseNamespace = "nocrds", "skip-crds"
	hc.Options = &libv1beta1.HelmOptions{SkipCRDs: true}
	apply(t, c, cfg, hc, nil, helm.ActionInstalled)
	mustExist(t, cfg, deploymentGVR, "skip-crds", "nocrds-cloudnative-pg")
	if _, err := get(t, cfg, crdGVR, "", "clusters.postgresql.cnpg.io"); !apierrors.IsNotFound(err) {
		t.Fatalf("CRD with skipCRDs: %v", err)
	}

	// Without the option, a fresh install brings the CRD back.
	hc.ReleaseName, hc.ReleaseNamespace, hc.Options = "withcrds", "with-crds", nil
	apply(t, c, cfg, hc, nil, helm.ActionInstalled)
	mustExist(t, cfg, crdGVR, "", "clusters.postgresql.cnpg.io")
	for _, r := range [][2]string{{"nocrds", "skip-crds"}, {"withcrds", "with-crds"}} {
		if err := c.Uninstall(context.Background(), cfg, r[0], r[1], false); err != nil {
			t.Fatal(err)
		}
	}
}
