package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/explain"
)

// The manager does not run in these tests: each test writes the statuses the
// controllers would (cluster readiness, profile rollout, summaries), and
// tug explain reads them from the real API server.

// explainCluster creates the SveltosCluster namespace/name with labels and a
// ready status (changed by mutate), as the cluster controller reports it.
func explainCluster(t *testing.T, namespace, name string, labels map[string]string, mutate func(*libv1beta1.SveltosCluster)) *libv1beta1.SveltosCluster {
	t.Helper()
	ctx := context.Background()
	must(t, clusters.EnsureNamespace(ctx, mgmt, namespace))
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}}
	if mutate != nil {
		mutate(sc)
	}
	status := sc.Status
	if equality.Semantic.DeepEqual(status, libv1beta1.SveltosClusterStatus{}) {
		status = libv1beta1.SveltosClusterStatus{Ready: true, Version: "v1.30.0", ConnectionStatus: libv1beta1.ConnectionHealthy}
	}
	must(t, mgmt.Create(ctx, sc))
	sc.Status = status
	must(t, mgmt.Status().Update(ctx, sc))
	return sc
}

// explainProfile creates a ClusterProfile and writes the rollout status the
// profile controller would for the clusters it matches.
func explainProfile(t *testing.T, name string, spec configv1beta1.Spec, matching ...*libv1beta1.SveltosCluster) *configv1beta1.ClusterProfile {
	t.Helper()
	ctx := context.Background()
	cp := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	must(t, mgmt.Create(ctx, cp))
	refs := []corev1.ObjectReference{}
	for _, c := range matching {
		refs = append(refs, libv1beta1.SveltosClusterID(c.Namespace, c.Name).Ref())
	}
	cp.Status = configv1beta1.Status{MatchingClusterRefs: refs, UpdatedClusters: &configv1beta1.Clusters{Clusters: refs}, UpdatingClusters: &configv1beta1.Clusters{}}
	must(t, mgmt.Status().Update(ctx, cp))
	return cp
}

// explainSummary creates the profile's summary on the cluster, at the
// profile's current spec, with the given status (observed generation set).
func explainSummary(t *testing.T, cp *configv1beta1.ClusterProfile, c *libv1beta1.SveltosCluster, status configv1beta1.ClusterSummaryStatus) {
	t.Helper()
	status.ObservedGeneration = 1
	createSummary(t, configv1beta1.ClusterProfileKind, cp.Name, c.Namespace, c.Name, cp.Spec, status)
}

func selector(labels map[string]string) libv1beta1.Selector {
	return libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: labels}}
}

var explainPolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "manifests"}}

func provisionedResources() configv1beta1.ClusterSummaryStatus {
	return configv1beta1.ClusterSummaryStatus{FeatureSummaries: []configv1beta1.FeatureSummary{
		{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusProvisioned, Hash: []byte("h"), LastAppliedTime: &applied1},
	}}
}

// explainRun runs tug as main does and returns stdout, stderr and the exit code.
func explainRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// explainJSON runs tug explain -o json and decodes the explanation.
func explainJSON(t *testing.T, wantCode int, args ...string) explain.Explanation {
	t.Helper()
	stdout, stderr, code := explainRun(t, append(args, "-o", "json")...)
	if code != wantCode {
		t.Fatalf("tug %s: exit code %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	var e explain.Explanation
	if err := json.Unmarshal([]byte(stdout), &e); err != nil {
		t.Fatalf("tug %s -o json: %v\n%s", strings.Join(args, " "), err, stdout)
	}
	return e
}

// tableRow is row n of the step table, its cells joined by "|".
func tableRow(out string, n int) string {
	prefix := strconv.Itoa(n) + " "
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			return strings.Join(regexp.MustCompile(`  +`).Split(strings.TrimSpace(line), -1), "|")
		}
	}
	return ""
}

// stopOf is "check verdict title: detail" of the step that decides the outcome.
func stopOf(e explain.Explanation) string {
	s := e.Stop()
	if s == nil {
		return ""
	}
	return string(s.Check) + " " + string(s.Verdict) + " " + s.Title + ": " + s.Detail
}

// A profile deployed to a ready cluster reaches it: every step passes or does
// not apply, exit code 0.
func TestExplainReaches(t *testing.T) {
	c := explainCluster(t, "explain-reach", "web", map[string]string{"env": "prod"}, nil)
	cp := explainProfile(t, "explain-reach", configv1beta1.Spec{ClusterSelector: selector(map[string]string{"env": "prod"}), PolicyRefs: explainPolicyRefs}, c)
	explainSummary(t, cp, c, provisionedResources())

	stdout, stderr, code := explainRun(t, "explain", "profile", "explain-reach", "--cluster", "explain-reach/web")
	if code != 0 || stderr != "" {
		t.Fatalf("exit code %d, stderr %q\n%s", code, stderr, stdout)
	}
	want := `ClusterProfile/explain-reach reaches explain-reach/web

#   VERDICT  STEP                                                    DETAIL
1   passes   profile not paused                                      no profile.projectsveltos.io/paused annotation
2   passes   clusterSelector env=prod                                cluster has env=prod
3   n.a.     no clusterRefs                                          no cluster is listed
4   passes   cluster ready                                           status.ready, Kubernetes v1.30.0, connection Healthy
5   passes   cluster not paused                                      spec.paused is not set
6   passes   not sharded                                             no sharding.projectsveltos.io/key annotation: the manager started without --shard-key deploys to it
7   passes   syncMode Continuous                                     every change is pushed
8   passes   tier 100                                                against another profile wanting the same object, the lower tier wins; at equal tiers the first owner keeps it
9   passes   ClusterSummary explain-reach/explain-reach-sveltos-web  exists
10  passes   maxUpdate 100%                                          the cluster's summary carries the current spec (1 of 1 matching clusters updated, 0 updating)
11  n.a.     no dependsOn                                            waits for no other profile
12  passes   Resources provisioned                                   deployed at 2024-05-01T10:00:00Z
`
	if stdout != want {
		t.Errorf("tug explain:\n%s\nwant:\n%s", stdout, want)
	}
	e := explainJSON(t, 0, "explain", "profile", "ClusterProfile/explain-reach", "--cluster=explain-reach/web")
	if !e.Reaches || e.Outcome != explain.Reaches || e.Profile != "ClusterProfile/explain-reach" || e.Cluster != "explain-reach/web" || len(e.Steps) != 12 {
		t.Errorf("-o json: %+v", e)
	}
	stdout, _, code = explainRun(t, "explain", "profile", "explain-reach", "--cluster=explain-reach/web", "-o", "yaml")
	var y explain.Explanation
	if code != 0 || yaml.Unmarshal([]byte(stdout), &y) != nil || y.Outcome != explain.Reaches || len(y.Steps) != 12 || y.Steps[1].Title != "clusterSelector env=prod" {
		t.Errorf("-o yaml: exit code %d\n%s", code, stdout)
	}
}

// A selector term the cluster's labels do not satisfy blocks, named with the
// label the cluster lacks; exit code 1.
func TestExplainSelectorTermFails(t *testing.T) {
	c := explainCluster(t, "explain-selector", "workload", map[string]string{"env": "prod"}, nil)
	explainProfile(t, "explain-selector", configv1beta1.Spec{ClusterSelector: selector(map[string]string{"env": "prod", "type": "app"}), PolicyRefs: explainPolicyRefs})
	_ = c

	stdout, stderr, code := explainRun(t, "explain", "profile", "explain-selector", "--cluster", "explain-selector/workload")
	if code != 1 || stderr != "tug: ClusterProfile/explain-selector does not reach explain-selector/workload (blocked)\n" {
		t.Errorf("exit code %d, stderr %q", code, stderr)
	}
	want := `ClusterProfile/explain-selector does not reach explain-selector/workload: blocked at step 3 (clusterSelector type=app)

#  VERDICT  STEP                      DETAIL
1  passes   profile not paused        no profile.projectsveltos.io/paused annotation
2  passes   clusterSelector env=prod  cluster has env=prod
3  blocks   clusterSelector type=app  cluster has no label type
4  n.a.     no clusterRefs            no cluster is listed
5  passes   cluster ready             status.ready, Kubernetes v1.30.0, connection Healthy
6  passes   cluster not paused        spec.paused is not set
7  passes   not sharded               no sharding.projectsveltos.io/key annotation: the manager started without --shard-key deploys to it
8  passes   syncMode Continuous       every change is pushed
9  passes   tier 100                  against another profile wanting the same object, the lower tier wins; at equal tiers the first owner keeps it
`
	if stdout != want {
		t.Errorf("tug explain:\n%s\nwant:\n%s", stdout, want)
	}

	// Listed in clusterRefs, the cluster is reached whatever the selector says.
	cp := &configv1beta1.ClusterProfile{}
	must(t, mgmt.Get(context.Background(), types.NamespacedName{Name: "explain-selector"}, cp))
	cp.Spec.ClusterRefs = []corev1.ObjectReference{{Kind: libv1beta1.SveltosClusterKind, Namespace: "explain-selector", Name: "workload"}}
	must(t, mgmt.Update(context.Background(), cp))
	e := explainJSON(t, 1, "explain", "profile", "explain-selector", "--cluster", "explain-selector/workload")
	if got := stopOf(e); !strings.HasPrefix(got, "summary waits ClusterSummary explain-selector/explain-selector-sveltos-workload: not created yet") {
		t.Errorf("listed cluster: stop %q", got)
	}
	for _, s := range e.Steps {
		if s.Title == "clusterSelector type=app" && s.Verdict != explain.NotApplicable {
			t.Errorf("failing term of a listed cluster: %+v", s)
		}
	}
}

// A cluster the manager cannot reach is not ready: the probe's failure message
// is the detail.
func TestExplainClusterNotReady(t *testing.T) {
	msg := "reading /version from https://127.0.0.1:1: connection refused"
	c := explainCluster(t, "explain-down", "edge", map[string]string{"env": "prod"}, func(sc *libv1beta1.SveltosCluster) {
		sc.Status = libv1beta1.SveltosClusterStatus{ConnectionStatus: libv1beta1.ConnectionDown, ConnectionFailures: 3, FailureMessage: &msg}
	})
	explainProfile(t, "explain-down", configv1beta1.Spec{ClusterRefs: []corev1.ObjectReference{{Kind: libv1beta1.SveltosClusterKind, Namespace: c.Namespace, Name: c.Name}}, PolicyRefs: explainPolicyRefs})
	e := explainJSON(t, 1, "explain", "profile", "explain-down", "--cluster", "explain-down/edge")
	want := "readiness blocks cluster not ready: status.ready is false, connectionStatus Down (3 failed probes in a row): " + msg
	if e.Outcome != explain.Blocked || stopOf(e) != want {
		t.Errorf("outcome %s, stop:\n %q\nwant\n %q", e.Outcome, stopOf(e), want)
	}
	// A cluster that does not exist is said so.
	e = explainJSON(t, 1, "explain", "profile", "explain-down", "--cluster", "explain-down/nope")
	if got := stopOf(e); got != "cluster blocks cluster explain-down/nope: SveltosCluster explain-down/nope not found" {
		t.Errorf("missing cluster: %q", got)
	}
}

// A paused profile (annotation) or paused cluster (spec.paused) blocks.
func TestExplainPaused(t *testing.T) {
	c := explainCluster(t, "explain-paused", "web", map[string]string{"env": "prod"}, nil)
	cp := explainProfile(t, "explain-paused", configv1beta1.Spec{ClusterSelector: selector(map[string]string{"env": "prod"}), PolicyRefs: explainPolicyRefs}, c)
	explainSummary(t, cp, c, provisionedResources())
	cp.Annotations = map[string]string{configv1beta1.PausedAnnotation: "true"}
	must(t, mgmt.Update(context.Background(), cp))
	e := explainJSON(t, 1, "explain", "profile", "explain-paused", "--cluster", "explain-paused/web")
	if got := stopOf(e); got != "profilePaused blocks profile paused: ClusterProfile/explain-paused is annotated profile.projectsveltos.io/paused: Tugboat deploys nothing for it until the annotation is removed" {
		t.Errorf("paused profile: %q", got)
	}

	frozen := explainCluster(t, "explain-paused", "frozen", map[string]string{"env": "prod"}, func(sc *libv1beta1.SveltosCluster) { sc.Spec.Paused = true })
	delete(cp.Annotations, configv1beta1.PausedAnnotation)
	must(t, mgmt.Update(context.Background(), cp))
	e = explainJSON(t, 1, "explain", "profile", "explain-paused", "--cluster", "explain-paused/"+frozen.Name)
	if got := stopOf(e); got != "clusterPaused blocks cluster paused: SveltosCluster explain-paused/frozen has spec.paused: nothing is deployed to or withdrawn from it" {
		t.Errorf("paused cluster: %q", got)
	}
}

// A profile whose dependsOn is not provisioned on the cluster waits for it,
// with the dependency's own failure.
func TestExplainDependsOnWait(t *testing.T) {
	c := explainCluster(t, "explain-deps", "web", nil, nil)
	refs := []corev1.ObjectReference{{Kind: libv1beta1.SveltosClusterKind, Namespace: c.Namespace, Name: c.Name}}
	db := explainProfile(t, "explain-deps-db", configv1beta1.Spec{ClusterRefs: refs, HelmCharts: []libv1beta1.HelmChart{{
		RepositoryURL: "https://charts.example.com", RepositoryName: "cnpg", ChartName: "cnpg/cloudnative-pg", ChartVersion: "0.21.2",
		ReleaseName: "cnpg", ReleaseNamespace: "cnpg-system"}}}, c)
	chartErr := `chart "cnpg/cloudnative-pg" version "0.21.2" not found in https://charts.example.com`
	explainSummary(t, db, c, configv1beta1.ClusterSummaryStatus{FeatureSummaries: []configv1beta1.FeatureSummary{
		{FeatureID: libv1beta1.FeatureHelm, Status: libv1beta1.FeatureStatusFailed, FailureMessage: &chartErr, ConsecutiveFailures: 2}}})
	app := explainProfile(t, "explain-deps-app", configv1beta1.Spec{ClusterRefs: refs, DependsOn: []string{"explain-deps-db"}, PolicyRefs: explainPolicyRefs}, c)
	waiting := "waiting for explain-deps-db to be provisioned"
	explainSummary(t, app, c, configv1beta1.ClusterSummaryStatus{Dependencies: &waiting})

	e := explainJSON(t, 1, "explain", "profile", "explain-deps-app", "--cluster", "explain-deps/web")
	want := "dependsOn waits dependsOn explain-deps-db: not provisioned on this cluster yet: Helm Failed: " + chartErr +
		"; the summary reports: waiting for explain-deps-db to be provisioned"
	if e.Outcome != explain.Waiting || stopOf(e) != want {
		t.Errorf("outcome %s, stop:\n %q\nwant\n %q", e.Outcome, stopOf(e), want)
	}
	// The dependency itself is blocked by its own failure.
	e = explainJSON(t, 1, "explain", "profile", "explain-deps-db", "--cluster", "explain-deps/web")
	if got := stopOf(e); got != "feature blocks Helm failed: failed 2 time(s) in a row: "+chartErr {
		t.Errorf("dependency: %q", got)
	}
}

// A conflict names the profile holding the object and the object; the message
// is the one the deployer writes, produced here by deploying for real.
func TestExplainConflict(t *testing.T) {
	ctx := context.Background()
	c := explainCluster(t, "explain-conflict", "services", map[string]string{"env": "prod"}, nil)
	svc := servicesClient(t)
	must(t, clusters.EnsureNamespace(ctx, svc, "explain-conflict"))
	settings := func() *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("ConfigMap")
		u.SetNamespace("explain-conflict")
		u.SetName("settings")
		return u
	}
	deploy := func(profile string, tier int32) error {
		_, err := (&deployer.Deployer{}).Apply(ctx, svc, deployer.Request{
			Owner:   deployer.Owner{Kind: configv1beta1.ClusterProfileKind, Name: profile, Tier: tier, Cluster: "explain-conflict/services"},
			Feature: libv1beta1.FeatureResources,
			Objects: []deployer.Desired{{Object: settings()}},
		})
		return err
	}
	must(t, deploy("explain-base", 50))
	conflict := deploy("explain-web", 100)
	var ce *deployer.ConflictError
	if !errors.As(conflict, &ce) {
		t.Fatalf("second deploy: %v, want a conflict", conflict)
	}

	base := explainProfile(t, "explain-base", configv1beta1.Spec{ClusterSelector: selector(map[string]string{"env": "prod"}), Tier: 50, PolicyRefs: explainPolicyRefs}, c)
	explainSummary(t, base, c, provisionedResources())
	web := explainProfile(t, "explain-web", configv1beta1.Spec{ClusterSelector: selector(map[string]string{"env": "prod"}), PolicyRefs: explainPolicyRefs}, c)
	msg := conflict.Error()
	explainSummary(t, web, c, configv1beta1.ClusterSummaryStatus{FeatureSummaries: []configv1beta1.FeatureSummary{
		{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusFailed, FailureMessage: &msg, ConsecutiveFailures: 1}}})

	stdout, _, code := explainRun(t, "explain", "profile", "explain-web", "--cluster", "explain-conflict/services")
	if code != 1 || !strings.HasPrefix(stdout, "ClusterProfile/explain-web does not reach explain-conflict/services: blocked at step 12 (Resources: conflict on ConfigMap explain-conflict/settings)\n") ||
		tableRow(stdout, 12) != "12|blocks|Resources: conflict on ConfigMap explain-conflict/settings|held by ClusterProfile explain-base (tier 50); this profile has tier 100: the lower tier wins" {
		t.Errorf("exit code %d:\n%s", code, stdout)
	}
	e := explainJSON(t, 1, "explain", "profile", "explain-web", "--cluster", "explain-conflict/services")
	s := e.Stop()
	if s == nil || s.Conflict == nil || s.Conflict.Holder != "ClusterProfile explain-base" || s.Conflict.HolderTier != 50 ||
		s.Conflict.Object != "ConfigMap explain-conflict/settings" || s.Conflict.Message != msg {
		t.Errorf("conflict: %+v", s)
	}
	// The holder reaches the cluster.
	if e := explainJSON(t, 0, "explain", "profile", "explain-base", "--cluster", "explain-conflict/services"); !e.Reaches {
		t.Errorf("holder: %s", stopOf(e))
	}
}

// A generated profile names the EventTrigger, the EventSource and the source
// cluster (and resource) it came from.
func TestExplainGeneratedProfile(t *testing.T) {
	ctx := context.Background()
	c := explainCluster(t, "explain-events", "workload", map[string]string{"postgres": "required"}, nil)
	must(t, mgmt.Create(ctx, &libv1beta1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: "explain-needs-db"},
		Spec: libv1beta1.EventSourceSpec{ResourceSelectors: []libv1beta1.ResourceSelector{{Group: "", Version: "v1", Kind: "ConfigMap", Namespace: "shop"}}}}))
	must(t, mgmt.Create(ctx, &libv1beta1.EventTrigger{ObjectMeta: metav1.ObjectMeta{Name: "explain-deploy-db"},
		Spec: libv1beta1.EventTriggerSpec{SourceClusterSelector: selector(map[string]string{"postgres": "required"}), EventSourceName: "explain-needs-db",
			OneForEvent: true, PolicyRefs: explainPolicyRefs}}))
	must(t, mgmt.Create(ctx, &libv1beta1.EventReport{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: libv1beta1.EventReportName("explain-needs-db", c.Name)},
		Spec: libv1beta1.EventReportSpec{ClusterNamespace: c.Namespace, ClusterName: c.Name, ClusterType: libv1beta1.ClusterTypeSveltos,
			EventSourceName: "explain-needs-db", MatchingResources: []corev1.ObjectReference{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "orders"}}},
	}))
	cp := &configv1beta1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "sveltos-explain-generated", Labels: map[string]string{
			libv1beta1.EventTriggerNameLabel:              "explain-deploy-db",
			libv1beta1.EventTriggerEventSourceNameLabel:   "explain-needs-db",
			libv1beta1.EventTriggerClusterNamespaceLabel:  c.Namespace,
			libv1beta1.EventTriggerClusterNameLabel:       c.Name,
			libv1beta1.EventTriggerClusterTypeLabel:       string(libv1beta1.ClusterTypeSveltos),
			libv1beta1.EventTriggerResourceNamespaceLabel: "shop",
			libv1beta1.EventTriggerResourceNameLabel:      "orders",
		}, Annotations: map[string]string{libv1beta1.EventObservedAnnotation: "2024-05-01T09:59:58Z"}},
		Spec: configv1beta1.Spec{ClusterRefs: []corev1.ObjectReference{{Kind: libv1beta1.SveltosClusterKind, Namespace: c.Namespace, Name: c.Name}}, PolicyRefs: explainPolicyRefs},
	}
	must(t, mgmt.Create(ctx, cp))
	explainSummary(t, cp, c, provisionedResources())

	stdout, _, code := explainRun(t, "explain", "profile", cp.Name, "--cluster", "explain-events/workload")
	wantLine := "1|passes|generated by EventTrigger explain-deploy-db|EventSource explain-needs-db matching shop/orders in cluster explain-events/workload; event acted on at 2024-05-01T09:59:58Z; the EventSource matches 1 resource(s) there now"
	if code != 0 || tableRow(stdout, 1) != wantLine {
		t.Errorf("exit code %d:\n%s\nwant the line:\n%s", code, stdout, wantLine)
	}
	e := explainJSON(t, 0, "explain", "profile", cp.Name, "--cluster", "explain-events/workload")
	want := explain.Origin{EventTrigger: "explain-deploy-db", EventSource: "explain-needs-db", SourceCluster: "explain-events/workload", Resource: "shop/orders", ObservedAt: "2024-05-01T09:59:58Z"}
	if e.GeneratedBy == nil || *e.GeneratedBy != want {
		t.Errorf("generatedBy %+v, want %+v", e.GeneratedBy, want)
	}
}

// A Profile is named NAMESPACE/NAME or with -n; a profile that does not exist is an error (exit code 1).
func TestExplainNamespacedProfile(t *testing.T) {
	c := explainCluster(t, "explain-tenant", "web", map[string]string{"env": "prod"}, nil)
	p := &configv1beta1.Profile{ObjectMeta: metav1.ObjectMeta{Namespace: "explain-tenant", Name: "tenant"},
		Spec: configv1beta1.Spec{ClusterSelector: selector(map[string]string{"env": "prod"}), PolicyRefs: explainPolicyRefs}}
	must(t, mgmt.Create(context.Background(), p))
	createSummary(t, configv1beta1.ProfileKind, p.Name, c.Namespace, c.Name, p.Spec, configv1beta1.ClusterSummaryStatus{
		FeatureSummaries: provisionedResources().FeatureSummaries, ObservedGeneration: 1})
	for _, args := range [][]string{
		{"explain-tenant/tenant"}, {"tenant", "-n", "explain-tenant"}, {"Profile/explain-tenant/tenant"},
	} {
		e := explainJSON(t, 0, append([]string{"explain", "profile", "--cluster", "explain-tenant/web"}, args...)...)
		if e.Profile != "Profile/explain-tenant/tenant" || !e.Reaches {
			t.Errorf("%v: %s %s", args, e.Profile, stopOf(e))
		}
	}
	_, stderr, code := explainRun(t, "explain", "profile", "explain-tenant/nope", "--cluster", "explain-tenant/web")
	if code != 1 || stderr != "tug: Profile/explain-tenant/nope not found\n" {
		t.Errorf("missing profile: exit code %d, stderr %q", code, stderr)
	}
}

// Mistakes in how tug explain is called exit 2, before anything is read.
func TestUnitExplainUsageErrors(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent/kubeconfig")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"explain", "profile", "--cluster", "a/b"}, "tug explain profile takes one argument, the profile: NAME (ClusterProfile), NAMESPACE/NAME or -n NAMESPACE NAME (Profile)"},
		{[]string{"explain", "profile", "web", "other", "--cluster", "a/b"}, "tug explain profile takes one argument, the profile: NAME (ClusterProfile), NAMESPACE/NAME or -n NAMESPACE NAME (Profile)"},
		{[]string{"explain", "profile", "web"}, "--cluster is required: NAMESPACE/NAME, or capi:NAMESPACE/NAME for a Cluster API cluster"},
		{[]string{"explain", "profile", "web", "--cluster", "web"}, `--cluster "web": want NAMESPACE/NAME, or capi:NAMESPACE/NAME for a Cluster API cluster`},
		{[]string{"explain", "profile", "web", "--cluster", "capi:a/b/c"}, `--cluster "capi:a/b/c": want NAMESPACE/NAME, or capi:NAMESPACE/NAME for a Cluster API cluster`},
		{[]string{"explain", "profile", "a/b/c", "--cluster", "a/b"}, `profile "a/b/c": use NAME, NAMESPACE/NAME, ClusterProfile/NAME or Profile/NAMESPACE/NAME`},
		{[]string{"explain", "profile", "team/web", "-n", "other", "--cluster", "a/b"}, `profile "team/web": names namespace team, -n says other`},
		{[]string{"explain", "profile", "ClusterProfile/web", "-n", "team", "--cluster", "a/b"}, `profile "ClusterProfile/web": a ClusterProfile has no namespace; drop -n`},
		{[]string{"explain", "profile", "Team/web", "--cluster", "a/b"}, `profile "Team/web": "Team" is not a namespace`},
		{[]string{"explain", "profile", "web", "--cluster", "a/b", "-o", "xml"}, `unknown output format "xml": use table, yaml or json`},
		{[]string{"explain", "frobnicate"}, `unknown command "frobnicate" for "tug explain"`},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 2 || stderr.String() != "tug: "+tc.want+"\n" || stdout.Len() != 0 {
			t.Errorf("tug %s: exit code %d, stderr %q, stdout %q; want 2 and %q", strings.Join(tc.args, " "), code, stderr.String(), stdout.String(), tc.want)
		}
	}
	for _, tc := range []struct{ arg, ns, want string }{
		{"web", "", "ClusterProfile/web"},
		{"team/web", "", "Profile/team/web"},
		{"web", "team", "Profile/team/web"},
		{"Profile/web", "team", "Profile/team/web"},
		{"ClusterProfile/web", "", "ClusterProfile/web"},
	} {
		if p, err := parseExplainProfile(tc.arg, tc.ns); err != nil || p.String() != tc.want {
			t.Errorf("parseExplainProfile(%q, %q) = %s, %v; want %s", tc.arg, tc.ns, p, err, tc.want)
		}
	}
	if id, err := parseClusterID("capi:prod/eu-1"); err != nil || id != libv1beta1.CAPIClusterID("prod", "eu-1") {
		t.Errorf("capi cluster: %v %v", id, err)
	}
}
