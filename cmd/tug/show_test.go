package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

var (
	applied1 = metav1.NewTime(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	applied2 = metav1.NewTime(time.Date(2024, 5, 2, 11, 30, 0, 0, time.UTC))
)

// servicesClient is an admin client of the "services" cluster.
func servicesClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster("services").Config, client.Options{Scheme: api.NewScheme()})
	must(t, err)
	return c
}

// registerServices registers the "services" test cluster as namespace/services.
func registerServices(t *testing.T, namespace string) {
	t.Helper()
	_, err := clusters.Register(context.Background(), mgmt, clusters.Registration{
		Namespace: namespace, Name: "services", Kubeconfig: env.Cluster("services").Kubeconfig,
	})
	must(t, err)
}

// createSummary creates a ClusterSummary of a profile for namespace/cluster and
// then writes its status, as the manager would.
func createSummary(t *testing.T, profileKind, profileName, namespace, cluster string, spec configv1beta1.Spec, status configv1beta1.ClusterSummaryStatus) *configv1beta1.ClusterSummary {
	t.Helper()
	ctx := context.Background()
	s := &configv1beta1.ClusterSummary{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      configv1beta1.ClusterSummaryName(profileKind, profileName, cluster),
			Labels: map[string]string{
				configv1beta1.ProfileLabel(profileKind): profileName,
				configv1beta1.ClusterNameLabel:          cluster,
			},
		},
		Spec: configv1beta1.ClusterSummarySpec{
			ClusterNamespace: namespace, ClusterName: cluster, ClusterType: libv1beta1.ClusterTypeSveltos,
			ClusterProfileSpec: spec,
		},
	}
	must(t, mgmt.Create(ctx, s))
	s.Status = status
	must(t, mgmt.Status().Update(ctx, s))
	return s
}

// deployed returns the metadata Tugboat puts on what a profile deploys.
func deployed(ownerKind, ownerName string, feature libv1beta1.FeatureID) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Labels: map[string]string{libv1beta1.ReasonLabel: string(feature)},
		Annotations: map[string]string{
			libv1beta1.OwnerKindAnnotation: ownerKind,
			libv1beta1.OwnerNameAnnotation: ownerName,
			libv1beta1.OwnerTierAnnotation: "100",
		},
	}
}

func withName(m metav1.ObjectMeta, namespace, name string) metav1.ObjectMeta {
	m.Namespace, m.Name = namespace, name
	return m
}

// `tug show addons` lists the Helm releases of the summaries and the objects
// carrying Tugboat's ownership metadata in the managed cluster, with the health
// of the feature that deployed each: ok, or which check, which object and why.
func TestShowAddons(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	registerServices(t, "addons")
	svc := servicesClient(t)

	// In the managed cluster: what the profiles deployed, plus decoys.
	must(t, svc.Create(ctx, &corev1.Namespace{ObjectMeta: withName(deployed("ClusterProfile", "dbaas", libv1beta1.FeatureResources), "", "addons-apps")}))
	labels := map[string]string{"app": "web"}
	must(t, svc.Create(ctx, &appsv1.Deployment{
		ObjectMeta: withName(deployed("ClusterProfile", "dbaas", libv1beta1.FeatureResources), "addons-apps", "web"),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}))
	must(t, svc.Create(ctx, &corev1.ConfigMap{ObjectMeta: withName(deployed("Profile", "tenant", libv1beta1.FeatureResources), "addons-apps", "settings")}))
	// Owned by a profile with no summary here, and not deployed by Tugboat at all.
	must(t, svc.Create(ctx, &corev1.ConfigMap{ObjectMeta: withName(deployed("ClusterProfile", "other", libv1beta1.FeatureResources), "addons-apps", "foreign")}))
	must(t, svc.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "addons-apps", Name: "plain"}}))

	notHealthy := "validateHealths[0] web: Deployment addons-apps/web is not healthy: 0 of 1 replicas available"
	createSummary(t, "ClusterProfile", "dbaas", "addons", "services",
		configv1beta1.Spec{HelmCharts: []libv1beta1.HelmChart{
			{RepositoryURL: "https://charts.example.com", RepositoryName: "cnpg", ChartName: "cnpg/cloudnative-pg", ChartVersion: "0.21.2", ReleaseName: "cnpg", ReleaseNamespace: "cnpg-system"},
			{RepositoryURL: "https://charts.example.com", RepositoryName: "cnpg", ChartName: "cnpg/other", ChartVersion: "1.0.0", ReleaseName: "taken", ReleaseNamespace: "cnpg-system"},
		}},
		configv1beta1.ClusterSummaryStatus{
			FeatureSummaries: []configv1beta1.FeatureSummary{
				{FeatureID: libv1beta1.FeatureHelm, Status: libv1beta1.FeatureStatusProvisioned, LastAppliedTime: &applied1},
				{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusProvisioning, LastAppliedTime: &applied2,
					FailureMessage: &notHealthy},
			},
			HelmReleaseSummaries: []configv1beta1.HelmChartSummary{
				{ReleaseName: "cnpg", ReleaseNamespace: "cnpg-system", Status: configv1beta1.HelmChartStatusManaging},
				{ReleaseName: "taken", ReleaseNamespace: "cnpg-system", Status: configv1beta1.HelmChartStatusConflict, ConflictMessage: "managed by ClusterProfile x"},
			},
			DeployedGVKs: []configv1beta1.FeatureDeploymentInfo{
				{FeatureID: libv1beta1.FeatureResources, DeployedGroupVersionKind: []string{"Deployment.v1.apps", "Namespace.v1.", "ConfigMap.v1."}},
			},
		})
	createSummary(t, "Profile", "tenant", "addons", "services", configv1beta1.Spec{},
		configv1beta1.ClusterSummaryStatus{
			FeatureSummaries: []configv1beta1.FeatureSummary{
				{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusProvisioned, LastAppliedTime: &applied1},
			},
			DeployedGVKs: []configv1beta1.FeatureDeploymentInfo{
				{FeatureID: libv1beta1.FeatureResources, DeployedGroupVersionKind: []string{"ConfigMap.v1."}},
			},
		})

	out, err := tug(t, "show", "addons", "--cluster-namespace=addons")
	if err != nil {
		t.Fatalf("show addons: %v\n%s", err, out)
	}
	want := `CLUSTER          RESOURCE TYPE    NAMESPACE    NAME         VERSION  TIME                  PROFILES               HEALTH
addons/services  :ConfigMap       addons-apps  settings     N/A      2024-05-01T10:00:00Z  Profile/addons/tenant  ok
addons/services  :Namespace                    addons-apps  N/A      2024-05-02T11:30:00Z  ClusterProfile/dbaas   Provisioning: ` + notHealthy + `
addons/services  apps:Deployment  addons-apps  web          N/A      2024-05-02T11:30:00Z  ClusterProfile/dbaas   Provisioning: ` + notHealthy + `
addons/services  helm chart       cnpg-system  cnpg         0.21.2   2024-05-01T10:00:00Z  ClusterProfile/dbaas   ok
`
	if out != want {
		t.Errorf("show addons:\n%s\nwant:\n%s", out, want)
	}

	// Filters.
	out, err = tug(t, "show", "addons", "--cluster-namespace=addons", "--profile=ClusterProfile/dbaas", "-o", "json")
	if err != nil {
		t.Fatalf("show addons --profile: %v\n%s", err, out)
	}
	var rows []addonRow
	must(t, json.Unmarshal([]byte(out), &rows))
	if len(rows) != 3 {
		t.Errorf("--profile=ClusterProfile/dbaas: %d rows, want 3:\n%s", len(rows), out)
	}
	out, err = tug(t, "show", "addons", "--cluster-namespace=addons", "--cluster=nope", "-o", "yaml")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("--cluster=nope: %v %q, want an empty list", err, out)
	}
	// -n/--namespace is the NAMESPACE column (objects and Helm releases), not
	// the clusters' namespace: cluster-scoped objects are left out.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "addons-apps"}, "settings web"},
		{[]string{"--namespace=cnpg-system"}, "cnpg"},
		{[]string{"-n", "addons"}, ""},
	} {
		out, err = tug(t, append([]string{"show", "addons", "--cluster-namespace=addons", "-o", "json"}, tc.args...)...)
		if err != nil {
			t.Fatalf("show addons %v: %v\n%s", tc.args, err, out)
		}
		rows = nil
		must(t, json.Unmarshal([]byte(out), &rows))
		var names []string
		for _, r := range rows {
			names = append(names, r.Name)
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("show addons %v: names %q, want %q", tc.args, got, tc.want)
		}
	}
	if _, err := tug(t, "show", "addons", "--profile=dbaas"); err == nil {
		t.Error("--profile without a kind accepted")
	}
	if _, err := tug(t, "show", "addons", "-o", "xml"); err == nil {
		t.Error("-o xml accepted")
	}
}

// `tug show resources` lists the matching resources of EventReports.
func TestShowResources(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	must(t, clusters.EnsureNamespace(ctx, mgmt, "resources"))
	for _, r := range []*libv1beta1.EventReport{
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "resources", Name: libv1beta1.EventReportName("services", "a")},
			Spec: libv1beta1.EventReportSpec{ClusterNamespace: "resources", ClusterName: "a", ClusterType: libv1beta1.ClusterTypeSveltos, EventSourceName: "services",
				MatchingResources: []corev1.ObjectReference{
					{APIVersion: "v1", Kind: "Service", Namespace: "web", Name: "frontend"},
					{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "web", Name: "frontend"},
				}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "resources", Name: libv1beta1.EventReportName("lb", "b")},
			Spec: libv1beta1.EventReportSpec{ClusterNamespace: "resources", ClusterName: "b", ClusterType: libv1beta1.ClusterTypeSveltos, EventSourceName: "lb",
				MatchingResources: []corev1.ObjectReference{{APIVersion: "v1", Kind: "Service", Namespace: "db", Name: "pg"}}},
		},
	} {
		must(t, mgmt.Create(ctx, r))
	}
	out, err := tug(t, "show", "resources", "--cluster-namespace=resources")
	if err != nil {
		t.Fatalf("show resources: %v\n%s", err, out)
	}
	want := `CLUSTER      GVK                       NAMESPACE  NAME
resources/a  /v1, Kind=Service         web        frontend
resources/a  apps/v1, Kind=Deployment  web        frontend
resources/b  /v1, Kind=Service         db         pg
`
	if out != want {
		t.Errorf("show resources:\n%s\nwant:\n%s", out, want)
	}
	out, err = tug(t, "show", "resources", "--cluster-namespace=resources", "--kind=Service", "--namespace=web")
	if err != nil || !strings.Contains(out, "frontend") || strings.Contains(out, "Deployment") || strings.Contains(out, "pg") {
		t.Errorf("show resources --kind --namespace: %v\n%s", err, out)
	}
	out, err = tug(t, "show", "resources", "--cluster-namespace=resources", "-n", "db")
	if err != nil || !strings.Contains(out, "pg") || strings.Contains(out, "frontend") {
		t.Errorf("show resources -n db: %v\n%s", err, out)
	}
	out, err = tug(t, "show", "resources", "--cluster-namespace=resources", "--group=apps", "-o", "yaml")
	var rows []resourceRow
	if err != nil || yaml.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].GVK != "apps/v1, Kind=Deployment" {
		t.Errorf("show resources --group=apps: %v\n%s", err, out)
	}
}

// `tug show usage` lists the clusters of each profile and where each
// referenced ConfigMap/Secret is deployed.
func TestShowUsage(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	must(t, clusters.EnsureNamespace(ctx, mgmt, "usage"))
	cp := &configv1beta1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "usage-web"},
		Spec: configv1beta1.Spec{PolicyRefs: []libv1beta1.PolicyRef{
			{Kind: "ConfigMap", Namespace: "usage", Name: "web-manifests"},
			{Kind: "Secret", Name: "creds"}, // the cluster's namespace
		}},
	}
	must(t, mgmt.Create(ctx, cp))
	cp.Status.MatchingClusterRefs = []corev1.ObjectReference{
		{Kind: libv1beta1.SveltosClusterKind, Namespace: "usage", Name: "a"},
		{Kind: libv1beta1.SveltosClusterKind, Namespace: "usage", Name: "b"},
	}
	must(t, mgmt.Status().Update(ctx, cp))
	provisioned := func(status libv1beta1.FeatureStatus) configv1beta1.ClusterSummaryStatus {
		return configv1beta1.ClusterSummaryStatus{FeatureSummaries: []configv1beta1.FeatureSummary{{FeatureID: libv1beta1.FeatureResources, Status: status}}}
	}
	createSummary(t, "ClusterProfile", "usage-web", "usage", "a", cp.Spec, provisioned(libv1beta1.FeatureStatusProvisioned))
	createSummary(t, "ClusterProfile", "usage-web", "usage", "b", cp.Spec, provisioned(libv1beta1.FeatureStatusFailed))

	out, err := tug(t, "show", "usage", "--namespace=usage")
	if err != nil {
		t.Fatalf("show usage: %v\n%s", err, out)
	}
	want := `RESOURCE KIND  RESOURCE NAMESPACE  RESOURCE NAME  CLUSTERS
ConfigMap      usage               web-manifests  usage/a
Secret         usage               creds          usage/a
`
	if out != want {
		t.Errorf("show usage --namespace=usage:\n%s\nwant:\n%s", out, want)
	}
	// -n is the RESOURCE NAMESPACE column: a Profile and the ConfigMap it
	// references in its own namespace, no ClusterProfile.
	must(t, clusters.EnsureNamespace(ctx, mgmt, "usage-tenants"))
	p := &configv1beta1.Profile{
		ObjectMeta: metav1.ObjectMeta{Namespace: "usage-tenants", Name: "tenant"},
		Spec:       configv1beta1.Spec{PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Name: "tenant-manifests"}}},
	}
	must(t, mgmt.Create(ctx, p))
	createSummary(t, "Profile", "tenant", "usage-tenants", "c", p.Spec, provisioned(libv1beta1.FeatureStatusProvisioned))
	out, err = tug(t, "show", "usage", "-n", "usage-tenants", "-o", "json")
	var rows []usageRow
	if err != nil || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("show usage -n usage-tenants: %v\n%s", err, out)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Kind+" "+r.Namespace+"/"+r.Name+" "+strings.Join(r.Clusters, ","))
	}
	if want := "ConfigMap usage-tenants/tenant-manifests usage-tenants/c; Profile usage-tenants/tenant "; strings.Join(got, "; ") != want {
		t.Errorf("show usage -n usage-tenants: %q, want %q", strings.Join(got, "; "), want)
	}

	out, err = tug(t, "show", "usage", "--kind=ClusterProfile", "--name=usage-web")
	if err != nil || !strings.Contains(out, "\nClusterProfile  ") || !strings.HasSuffix(out, "  usage-web      usage/a, usage/b\n") {
		t.Errorf("show usage --kind=ClusterProfile:\n%s (%v)", out, err)
	}
}

// `tug show dryrun` lists ClusterReports; --raw-diff prints their messages.
func TestShowDryRun(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	must(t, clusters.EnsureNamespace(ctx, mgmt, "dryrun"))
	r := &configv1beta1.ClusterReport{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "dryrun", Name: configv1beta1.ClusterReportName("ClusterProfile", "web", "a"),
			Labels: map[string]string{configv1beta1.ClusterProfileNameLabel: "web", configv1beta1.ClusterNameLabel: "a"},
		},
		Spec: configv1beta1.ClusterReportSpec{ClusterNamespace: "dryrun", ClusterName: "a", ClusterType: libv1beta1.ClusterTypeSveltos},
	}
	must(t, mgmt.Create(ctx, r))
	diff := "--- a\n+++ b\n@@ -1 +1 @@\n-replicas: 1\n+replicas: 3\n"
	r.Status.ResourceReports = []configv1beta1.ResourceReport{
		{Resource: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\n", Action: configv1beta1.ReportActionUpdate, Message: diff},
		{Resource: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n", Action: configv1beta1.ReportActionNoAction},
		{Resource: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: apps\n", Action: configv1beta1.ReportActionConflict, Message: "owned by ClusterProfile other"},
	}
	r.Status.HelmResourceReports = []configv1beta1.ResourceReport{
		{Resource: "helm release cnpg-system/cnpg (chart cnpg/cloudnative-pg 0.21.2)", Action: configv1beta1.ReportActionUpdate, Message: "chart version 0.21.1 -> 0.21.2"},
	}
	must(t, mgmt.Status().Update(ctx, r))

	out, err := tug(t, "show", "dryrun", "--cluster-namespace=dryrun")
	if err != nil {
		t.Fatalf("show dryrun: %v\n%s", err, out)
	}
	want := `CLUSTER   RESOURCE TYPE    NAMESPACE    NAME  ACTION     MESSAGE                                 PROFILE
dryrun/a  :ConfigMap       apps         cfg   Conflict   owned by ClusterProfile other           ClusterProfile/web
dryrun/a  :Namespace                    apps  No Action                                          ClusterProfile/web
dryrun/a  apps:Deployment  apps         web   Update     use --raw-diff to see the full message  ClusterProfile/web
dryrun/a  helm chart       cnpg-system  cnpg  Update     chart version 0.21.1 -> 0.21.2          ClusterProfile/web
`
	if out != want {
		t.Errorf("show dryrun:\n%s\nwant:\n%s", out, want)
	}
	out, err = tug(t, "show", "dryrun", "--cluster-namespace=dryrun", "--raw-diff")
	if err != nil || !strings.Contains(out, "Profile: ClusterProfile/web Cluster: dryrun/a apps:Deployment apps/web Update\n"+strings.TrimSuffix(diff, "\n")) {
		t.Errorf("show dryrun --raw-diff:\n%s (%v)", out, err)
	}
	out, err = tug(t, "show", "dryrun", "--cluster-namespace=dryrun", "--profile=ClusterProfile/else")
	if err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("show dryrun --profile=ClusterProfile/else: header only expected:\n%s (%v)", out, err)
	}
	out, err = tug(t, "show", "dryrun", "--cluster-namespace=dryrun", "--cluster=b")
	if err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("show dryrun --cluster=b: header only expected:\n%s (%v)", out, err)
	}
	// -n/--namespace is the namespace of the objects and releases, not the clusters'.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "apps"}, "cfg web"},
		{[]string{"--namespace", "cnpg-system"}, "cnpg"},
		{[]string{"-n", "dryrun"}, ""},
	} {
		out, err = tug(t, append([]string{"show", "dryrun", "--cluster-namespace=dryrun", "-o", "json"}, tc.args...)...)
		if err != nil {
			t.Fatalf("show dryrun %v: %v\n%s", tc.args, err, out)
		}
		var rows []dryRunRow
		must(t, json.Unmarshal([]byte(out), &rows))
		var names []string
		for _, r := range rows {
			names = append(names, r.Name)
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("show dryrun %v: names %q, want %q", tc.args, got, tc.want)
		}
	}
}

// The management cluster's own SveltosCluster (mgmt/mgmt) has no kubeconfig
// Secret: show addons reaches it with the CLI's management credentials.
func TestShowAddonsManagementCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	must(t, clusters.EnsureManagementCluster(ctx, mgmt, managementCluster))
	must(t, mgmt.Create(ctx, &corev1.ConfigMap{ObjectMeta: withName(deployed("ClusterProfile", "mgmt-addons", libv1beta1.FeatureResources), "mgmt", "local-settings")}))
	createSummary(t, "ClusterProfile", "mgmt-addons", "mgmt", "mgmt", configv1beta1.Spec{},
		configv1beta1.ClusterSummaryStatus{
			FeatureSummaries: []configv1beta1.FeatureSummary{{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusProvisioned, LastAppliedTime: &applied1}},
			DeployedGVKs:     []configv1beta1.FeatureDeploymentInfo{{FeatureID: libv1beta1.FeatureResources, DeployedGroupVersionKind: []string{"ConfigMap.v1."}}},
		})
	out, err := tug(t, "show", "addons", "--profile=ClusterProfile/mgmt-addons")
	if err != nil {
		t.Fatalf("show addons: %v\n%s", err, out)
	}
	want := `CLUSTER    RESOURCE TYPE  NAMESPACE  NAME            VERSION  TIME                  PROFILES                    HEALTH
mgmt/mgmt  :ConfigMap     mgmt       local-settings  N/A      2024-05-01T10:00:00Z  ClusterProfile/mgmt-addons  ok
`
	if out != want {
		t.Errorf("show addons:\n%s\nwant:\n%s", out, want)
	}
}
