// Package install_test installs Tugboat the ways users do — the Helm chart
// charts/tugboat and the kustomization config/default — into a real API server
// (with RBAC authorization), and checks that the objects exist and that the
// manager's ServiceAccount is allowed exactly what the manager needs.
package install_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/config/crd"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const (
	chartDir       = "../../charts/tugboat"
	defaultDir     = "../../config/default"
	roleFile       = "../../config/rbac/role.yaml"
	chartNamespace = "tugboat-system"
	chartRelease   = "tb"
	// Names the chart gives its objects for release "tb".
	chartFullname = "tb-tugboat"
)

var (
	env *testenv.Env
	kc  client.Client
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"target"}}, &env, func(context.Context, *testenv.Env) error {
		scheme := runtime.NewScheme()
		for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme} {
			if err := add(scheme); err != nil {
				return err
			}
		}
		var err error
		kc, err = client.New(env.Cluster("target").Config, client.Options{Scheme: scheme})
		return err
	}))
}

var (
	chartOnce sync.Once
	chartErr  error
)

// installChart installs charts/tugboat (with a shard key) once; the tests share the release.
func installChart(t *testing.T) {
	t.Helper()
	chartOnce.Do(func() {
		chartErr = helmInstall(context.Background(), chartRelease, chartNamespace, map[string]any{"shardKey": "blue"})
	})
	if chartErr != nil {
		t.Fatal(chartErr)
	}
}

// helmInstall installs charts/tugboat as release into namespace (created) with values.
// managerDeployment is the manager's Deployment of the release fullname in namespace.
func managerDeployment(t *testing.T, namespace, fullname string) *appsv1.Deployment {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := kc.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: fullname + "-manager"}, dep); err != nil {
		t.Fatal(err)
	}
	return dep
}

// getService is the Service name in namespace.
func getService(t *testing.T, namespace, name string) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{}
	if err := kc.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, svc); err != nil {
		t.Fatal(err)
	}
	return svc
}

// checkNoService checks that the release installed no Service name in namespace.
func checkNoService(t *testing.T, namespace, name string) {
	t.Helper()
	if err := kc.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, &corev1.Service{}); !apierrors.IsNotFound(err) {
		t.Errorf("Service %s: %v, want not found", name, err)
	}
}

// checkManagerService checks that svc, the Service of one of the manager's
// endpoints, serves port on the manager's container port named target and
// selects the manager's pods.
func checkManagerService(t *testing.T, svc *corev1.Service, dep *appsv1.Deployment, port int32, target string) {
	t.Helper()
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != port || svc.Spec.Ports[0].TargetPort != intstr.FromString(target) {
		t.Errorf("Service %s ports %+v, want %d → %s", svc.Name, svc.Spec.Ports, port, target)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("Service %s selector %v does not select the manager's pods %v", svc.Name, svc.Spec.Selector, dep.Spec.Template.Labels)
	}
}

// renderManagerAndService renders the chart with values and decodes the
// manager's Deployment and the Service of its endpoint (dashboard, events).
func renderManagerAndService(t *testing.T, values map[string]any, endpoint string) (*appsv1.Deployment, *corev1.Service) {
	t.Helper()
	objs := renderObjects(t, values)
	dep, svc := &appsv1.Deployment{}, &corev1.Service{}
	if !decode(t, objs, "Deployment", "render-tugboat-manager", dep) || !decode(t, objs, "Service", "render-tugboat-"+endpoint, svc) {
		t.Fatalf("the Deployment or the %s Service is not rendered", endpoint)
	}
	return dep, svc
}

func helmInstall(ctx context.Context, release, namespace string, values map[string]any) error {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return fmt.Errorf("loading %s: %w", chartDir, err)
	}
	getter, err := helm.NewRESTClientGetter(env.Cluster("target").Config, namespace)
	if err != nil {
		return err
	}
	cfg := action.NewConfiguration()
	if err := cfg.Init(getter, namespace, "secret"); err != nil {
		return err
	}
	in := action.NewInstall(cfg)
	in.ReleaseName = release
	in.Namespace = namespace
	in.CreateNamespace = true
	// No pods run in a bare API server: wait for nothing but hooks.
	in.WaitStrategy = kube.HookOnlyStrategy
	if _, err := in.RunWithContext(ctx, ch, values); err != nil {
		return fmt.Errorf("helm install: %w", err)
	}
	return nil
}

func TestChartInstallsEverything(t *testing.T) {
	installChart(t)
	ctx := context.Background()

	crds, err := crd.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range crds {
		got := &apiextensionsv1.CustomResourceDefinition{}
		if err := kc.Get(ctx, types.NamespacedName{Name: want.Name}, got); err != nil {
			t.Errorf("CRD %s: %v", want.Name, err)
			continue
		}
		if !established(got) {
			t.Errorf("CRD %s is not established", want.Name)
		}
	}

	dep := &appsv1.Deployment{}
	if err := kc.Get(ctx, types.NamespacedName{Namespace: chartNamespace, Name: chartFullname + "-manager"}, dep); err != nil {
		t.Fatalf("Deployment: %v", err)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", dep.Spec.Replicas)
	}
	pod := dep.Spec.Template.Spec
	if pod.ServiceAccountName != chartFullname {
		t.Errorf("serviceAccountName = %q, want %q", pod.ServiceAccountName, chartFullname)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pod does not require a non-root user")
	}
	c := pod.Containers[0]
	for _, arg := range []string{"--leader-elect=true", "--leader-election-namespace=" + chartNamespace, "--shard-key=blue",
		"--metrics-bind-address=:8080", "--health-probe-bind-address=:8081"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("manager args %v lack %s", c.Args, arg)
		}
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("probes are not /healthz and /readyz")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources not set: %+v", c.Resources)
	}

	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: chartNamespace, Name: chartFullname}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: chartFullname + "-manager"}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: chartFullname + "-manager"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: chartNamespace, Name: chartFullname + "-manager"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: chartNamespace, Name: chartFullname + "-manager"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: chartNamespace, Name: chartFullname + "-metrics"}},
	} {
		if err := kc.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Errorf("%T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
		}
	}
	// No cluster-admin unless asked for.
	if err := kc.Get(ctx, types.NamespacedName{Name: chartFullname + "-management-cluster-admin"}, &rbacv1.ClusterRoleBinding{}); err == nil {
		t.Error("cluster-admin bound although managementClusterAdmin is false")
	}
}

// access is one question to the authorizer about a ServiceAccount.
type access struct {
	verb, group, resource, subresource, namespace string
	allowed                                       bool
}

// managerAccess is what the manager must and must not be allowed to do, with
// leader election in leaseNamespace.
func managerAccess(leaseNamespace string) []access {
	return []access{
		{"list", "lib.projectsveltos.io", "sveltosclusters", "", "", true},
		{"watch", "lib.projectsveltos.io", "sveltosclusters", "", "", true},
		{"patch", "lib.projectsveltos.io", "sveltosclusters", "status", "mgmt", true},
		{"create", "lib.projectsveltos.io", "sveltosclusters", "", "mgmt", true},
		{"update", "config.projectsveltos.io", "clustersummaries", "status", "default", true},
		{"create", "config.projectsveltos.io", "clustersummaries", "", "default", true},
		{"delete", "config.projectsveltos.io", "clustersummaries", "", "default", true},
		{"update", "config.projectsveltos.io", "clusterprofiles", "finalizers", "", true},
		{"create", "config.projectsveltos.io", "clusterprofiles", "", "", true},
		{"delete", "config.projectsveltos.io", "profiles", "", "default", false},
		{"patch", "config.projectsveltos.io", "clusterreports", "status", "default", true},
		{"list", "lib.projectsveltos.io", "eventtriggers", "", "", true},
		{"create", "lib.projectsveltos.io", "eventreports", "", "default", true},
		{"list", "lib.projectsveltos.io", "clustersets", "", "", true},
		{"get", "", "secrets", "", "default", true},
		{"watch", "", "configmaps", "", "", true},
		{"create", "", "namespaces", "", "", true},
		{"create", "events.k8s.io", "events", "", "default", true},
		{"list", "scheduler.kalypso.io", "workloads", "", "", true},
		{"patch", "demo.yash.com", "postgreswriters", "status", "default", true},
		{"get", "coordination.k8s.io", "leases", "", leaseNamespace, true},
		{"update", "coordination.k8s.io", "leases", "", leaseNamespace, true},
		{"create", "coordination.k8s.io", "leases", "", leaseNamespace, true},
		{"create", "", "events", "", leaseNamespace, true},
		{"create", "", "configmaps", "", leaseNamespace, true},
		{"delete", "", "secrets", "", leaseNamespace, true},

		{"delete", "", "nodes", "", "", false},
		{"create", "", "secrets", "", "default", false},
		{"update", "", "configmaps", "", "default", false},
		{"delete", "", "namespaces", "", "", false},
		{"update", "coordination.k8s.io", "leases", "", "kube-system", false},
		{"delete", "lib.projectsveltos.io", "sveltosclusters", "", "mgmt", false},
		{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", false},
		{"create", "scheduler.kalypso.io", "workloads", "", "default", false},
		{"create", "apps", "deployments", "", "default", false},
	}
}

// checkAccess asks the API server's authorizer, through SubjectAccessReviews,
// whether the ServiceAccount namespace/name may do each of checks.
func checkAccess(t *testing.T, namespace, name string, checks []access) {
	t.Helper()
	user := fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name)
	for _, a := range checks {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace,
			},
		}}
		if err := kc.Create(context.Background(), sar); err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		if sar.Status.Allowed != a.allowed {
			what := a.resource
			if a.subresource != "" {
				what += "/" + a.subresource
			}
			t.Errorf("%s %s.%s in %q: allowed=%v, want %v (%s)", a.verb, what, a.group, a.namespace,
				sar.Status.Allowed, a.allowed, sar.Status.Reason)
		}
	}
}

func TestChartRBAC(t *testing.T) {
	installChart(t)
	checkAccess(t, chartNamespace, chartFullname, managerAccess(chartNamespace))
}

// The chart carries the rules generated from the RBAC markers into config/rbac.
func TestChartRulesMatchGeneratedRole(t *testing.T) {
	installChart(t)
	generated := map[string][]rbacv1.PolicyRule{}
	raw, err := os.ReadFile(roleFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var obj struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%s: %v", roleFile, err)
		}
		if obj.Kind != "" {
			generated[obj.Kind] = obj.Rules
		}
	}
	ctx := context.Background()
	cr := &rbacv1.ClusterRole{}
	if err := kc.Get(ctx, types.NamespacedName{Name: chartFullname + "-manager"}, cr); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{}
	if err := kc.Get(ctx, types.NamespacedName{Namespace: chartNamespace, Name: chartFullname + "-manager"}, role); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(cr.Rules), normalize(generated["ClusterRole"])) {
		t.Errorf("chart ClusterRole rules differ from %s (run make chart-rbac)\nchart: %v\ngenerated: %v",
			roleFile, normalize(cr.Rules), normalize(generated["ClusterRole"]))
	}
	if !reflect.DeepEqual(normalize(role.Rules), normalize(generated["Role"])) {
		t.Errorf("chart Role rules differ from %s (run make chart-rbac)\nchart: %v\ngenerated: %v",
			roleFile, normalize(role.Rules), normalize(generated["Role"]))
	}
}

// normalize flattens rules into sorted "group resource verb" triples.
func normalize(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, g+" "+res+" "+v)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// The chart's files/role.yaml is a copy of config/rbac/role.yaml (`make chart-rbac`).
func TestChartRoleFileUpToDate(t *testing.T) {
	want, err := os.ReadFile(roleFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(chartDir + "/files/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Error("charts/tugboat/files/role.yaml differs from config/rbac/role.yaml: run make chart-rbac")
	}
}

// The chart's crds/ is a copy of config/crd/bases (`make chart-crds`).
func TestChartCRDsUpToDate(t *testing.T) {
	bases, err := filepath.Glob("../../config/crd/bases/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	copies, err := filepath.Glob(chartDir + "/crds/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		return out
	}
	if !slices.Equal(names(bases), names(copies)) {
		t.Fatalf("charts/tugboat/crds holds %v, config/crd/bases %v: run make chart-crds", names(copies), names(bases))
	}
	for _, b := range bases {
		want, _ := os.ReadFile(b)
		got, _ := os.ReadFile(filepath.Join(chartDir, "crds", filepath.Base(b)))
		if !bytes.Equal(want, got) {
			t.Errorf("charts/tugboat/crds/%s differs from config/crd/bases: run make chart-crds", filepath.Base(b))
		}
	}
}

// buildDefault builds config/default with kustomize.
func buildDefault(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	return buildKustomization(t, defaultDir)
}

// buildKustomization builds the kustomization in dir, as `kubectl kustomize dir` does.
func buildKustomization(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range resMap.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs
}

func TestKustomizeDefaultBuilds(t *testing.T) {
	objs := buildDefault(t)
	crds, err := crd.All()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, o := range objs {
		count[o.GetKind()]++
		if o.GetKind() == "Deployment" {
			dep := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, dep); err != nil {
				t.Fatal(err)
			}
			if dep.Namespace != "projectsveltos" || *dep.Spec.Replicas != 2 || dep.Spec.Template.Spec.ServiceAccountName != "tugboat-manager" {
				t.Errorf("Deployment %s/%s: replicas %d, serviceAccount %s", dep.Namespace, dep.Name, *dep.Spec.Replicas, dep.Spec.Template.Spec.ServiceAccountName)
			}
		}
	}
	if count["CustomResourceDefinition"] != len(crds) {
		t.Errorf("config/default has %d CRDs, config/crd/bases %d: list the new ones in config/crd/kustomization.yaml",
			count["CustomResourceDefinition"], len(crds))
	}
	for kind, n := range map[string]int{"Namespace": 1, "ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1,
		"Role": 1, "RoleBinding": 1, "Deployment": 1, "Service": 1} {
		if count[kind] != n {
			t.Errorf("config/default has %d %s, want %d", count[kind], kind, n)
		}
	}
}

// Applying config/default gives the projectsveltos/tugboat-manager ServiceAccount
// the manager's rights.
func TestKustomizeDefaultApplies(t *testing.T) {
	objs := buildDefault(t)
	// Namespaces first, then CRDs, then the rest.
	rank := func(o *unstructured.Unstructured) int {
		switch o.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		}
		return 2
	}
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i]) < rank(objs[j]) })
	ctx := context.Background()
	for _, o := range objs {
		if err := kc.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner("tugboat-install-test"), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		testenv.Eventually(t, "CRD "+o.GetName()+" established", func() error {
			got := &apiextensionsv1.CustomResourceDefinition{}
			if err := kc.Get(ctx, types.NamespacedName{Name: o.GetName()}, got); err != nil {
				return err
			}
			if !established(got) {
				return fmt.Errorf("not established")
			}
			return nil
		})
	}
	checkAccess(t, "projectsveltos", "tugboat-manager", managerAccess("projectsveltos"))
}

func established(c *apiextensionsv1.CustomResourceDefinition) bool {
	for _, cond := range c.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

// render renders the chart without a cluster and returns its manifest.
func render(t *testing.T, values map[string]any) (string, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	in := action.NewInstall(action.NewConfiguration())
	in.ReleaseName = "render"
	in.Namespace = "somewhere"
	in.DryRunStrategy = action.DryRunClient
	in.Replace = true
	rel, err := in.RunWithContext(context.Background(), ch, values)
	if err != nil {
		return "", err
	}
	acc, err := release.NewAccessor(rel)
	if err != nil {
		t.Fatal(err)
	}
	return acc.Manifest(), nil
}

func TestChartValues(t *testing.T) {
	if _, err := render(t, map[string]any{"leaderElection": map[string]any{"enabled": false}}); err == nil ||
		!strings.Contains(err.Error(), "leaderElection") {
		t.Errorf("2 replicas without leader election rendered (err %v)", err)
	}
	single, err := render(t, map[string]any{"replicas": 1, "leaderElection": map[string]any{"enabled": false}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(single, "--leader-elect=false") {
		t.Error("leader election not turned off in the manager's args")
	}
	if strings.Contains(single, "cluster-admin") {
		t.Error("cluster-admin bound by default")
	}
	admin, err := render(t, map[string]any{"managementClusterAdmin": true, "image": map[string]any{"tag": "v9"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: cluster-admin", "image: \"ghcr.io/tugboat-dev/tugboat-manager:v9\"", "namespace: somewhere"} {
		if !strings.Contains(admin, want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
}
