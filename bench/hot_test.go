package bench_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/examples"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// tutorialJobTemplate is the policy of the tutorial's job-to-create-table.yaml.
func tutorialJobTemplate(tb testing.TB) string {
	tb.Helper()
	raw, err := examples.DBaaSManifest("job-to-create-table.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				tb.Fatal("no ConfigMap job-to-create-table in the fixture")
			}
			tb.Fatal(err)
		}
		if obj.GetKind() == "ConfigMap" && obj.GetName() == "job-to-create-table" {
			text, _, _ := unstructured.NestedString(obj.Object, "data", "job-to-create-table.yaml")
			return text
		}
	}
}

func must(m map[string]any, err error) map[string]any {
	if err != nil {
		panic(err)
	}
	return m
}

func workloadCluster(name string) *libv1beta1.SveltosCluster {
	return &libv1beta1.SveltosCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod", UID: "0b7c3c1e-1111-2222-3333-444455556666", ResourceVersion: "4711",
			Labels: map[string]string{"postgres": "required", "type": "app", libv1beta1.K8sVersionLabel: "v1.33.1"}},
		Spec:   libv1beta1.SveltosClusterSpec{Data: map[string]string{"region": "eu-west-1"}},
		Status: libv1beta1.SveltosClusterStatus{Ready: true, Version: "v1.33.1", ConnectionStatus: libv1beta1.ConnectionHealthy},
	}
}

func tutorialResources() map[string]map[string]any {
	return map[string]map[string]any{
		"Credentials": must(templating.ObjectMap(&corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: "pg-credentials", Namespace: "prod"},
			Data:       map[string][]byte{"password": []byte("s3cr3t!"), "user": []byte("todo")},
		})),
		"LoadBalancer": must(templating.ObjectMap(&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: "pg-loadbalancer-data", Namespace: "prod"},
			Data:       map[string]string{"external-ip": "172.18.255.200", "port": "5432"},
		})),
	}
}

// fleetPolicy is like the fleet harness's policies: k ConfigMaps in the namespace named after the cluster.
func fleetPolicy(k int) string {
	var b strings.Builder
	for i := range k {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: \"{{ .Cluster.metadata.name }}\"\ndata:\n  cluster: \"{{ .Cluster.metadata.name }}\"\n  index: \"%d\"\n", i, i)
	}
	return b.String()
}

func renderedJob(tb testing.TB) *unstructured.Unstructured {
	text := tutorialJobTemplate(tb)
	out, err := templating.NewProfileContext(must(templating.ClusterMap(workloadCluster("workload"))), tutorialResources()).Render("job", text)
	if err != nil {
		tb.Fatal(err)
	}
	objs, err := templating.SplitDocuments("job", out)
	if err != nil || len(objs) != 1 {
		tb.Fatal(err, len(objs))
	}
	return objs[0]
}

// TestInputs checks the benchmark inputs (fast; it times nothing).
func TestInputs(t *testing.T) {
	job := renderedJob(t)
	if job.GetKind() != "Job" || !strings.Contains(fmt.Sprint(job.Object), "s3cr3t!") {
		t.Errorf("rendered job: %v", job.Object)
	}
	out, err := templating.NewProfileContext(must(templating.ClusterMap(workloadCluster("c042"))), nil).Render("fleet", fleetPolicy(10))
	if err != nil || strings.Count(out, "namespace: \"c042\"") != 10 {
		t.Errorf("fleet policy: %v\n%s", err, out)
	}
	if n := matching(t, benchFleet(1000)); n != 167 {
		t.Errorf("selector matched %d of 1000", n)
	}
	if cfg := scheduler.MergeConfig(platformConfig(), clusterType(), target()); len(cfg) == 0 {
		t.Error("empty merged config")
	}
}

// Template rendering: the tutorial Job (profile stage, templateResourceRefs).
func BenchmarkRenderTutorialJob(b *testing.B) {
	text := tutorialJobTemplate(b)
	cluster := must(templating.ClusterMap(workloadCluster("workload")))
	res := tutorialResources()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := templating.NewProfileContext(cluster, res).Render("job", text); err != nil {
			b.Fatal(err)
		}
	}
}

// Template rendering plus splitting into objects: the harness's 10-object policy.
func BenchmarkRenderFleetPolicy10(b *testing.B) {
	text := fleetPolicy(10)
	cluster := must(templating.ClusterMap(workloadCluster("c042")))
	b.ReportAllocs()
	for b.Loop() {
		out, err := templating.NewProfileContext(cluster, nil).Render("fleet", text)
		if err != nil {
			b.Fatal(err)
		}
		if objs, err := templating.SplitDocuments("fleet", out); err != nil || len(objs) != 10 {
			b.Fatal(err, len(objs))
		}
	}
}

// Hashing: deployer.Hash of the rendered tutorial Job and of a small ConfigMap.
func BenchmarkHashJob(b *testing.B) {
	job := renderedJob(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := deployer.Hash(job); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashConfigMap(b *testing.B) {
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cm-0", "namespace": "c042", "labels": map[string]any{"a": "b"},
			"annotations": map[string]any{libv1beta1.HashAnnotation: "x", libv1beta1.OwnerNameAnnotation: "fan"}},
		"data": map[string]any{"cluster": "c042", "index": "0"},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := deployer.Hash(cm); err != nil {
			b.Fatal(err)
		}
	}
}

// Selector matching over 1000 clusters.
func benchFleet(n int) []libv1beta1.SveltosCluster {
	envs := []string{"prod", "staging", "dev"}
	regions := []string{"eu", "us", "ap", "sa"}
	out := make([]libv1beta1.SveltosCluster, n)
	for i := range out {
		out[i] = libv1beta1.SveltosCluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("team-%d", i%10), Name: fmt.Sprintf("cluster-%04d", i), Labels: map[string]string{
				"env": envs[i%3], "region": regions[i%4], "type": "app", libv1beta1.K8sVersionLabel: "v1.33.1",
				"topology.example.com/zone-id": fmt.Sprintf("z%d", i%7),
			}},
			Status: libv1beta1.SveltosClusterStatus{Ready: true},
		}
	}
	return out
}

func benchSelector() libv1beta1.Selector {
	return libv1beta1.Selector{LabelSelector: metav1.LabelSelector{
		MatchLabels: map[string]string{"env": "prod", "type": "app"},
		MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "region", Operator: metav1.LabelSelectorOpIn, Values: []string{"eu", "us"}},
			{Key: "decommissioned", Operator: metav1.LabelSelectorOpDoesNotExist},
		},
	}}
}

func matching(tb testing.TB, fleet []libv1beta1.SveltosCluster) int {
	got, err := selection.MatchingClusters(selection.Scope{ClusterSelector: benchSelector()}, selection.FromSveltosList(fleet))
	if err != nil {
		tb.Fatal(err)
	}
	return len(got)
}

// selection.Matches per cluster (compiles the selector each call).
func BenchmarkSelectorMatches1000(b *testing.B) {
	fleet := benchFleet(1000)
	s := benchSelector()
	b.ReportAllocs()
	for b.Loop() {
		for i := range fleet {
			if _, err := selection.Matches(s, fleet[i].Labels); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// selection.MatchingClusters: what the profile controller runs per profile.
func BenchmarkMatchingClusters1000(b *testing.B) {
	fleet := benchFleet(1000)
	b.ReportAllocs()
	for b.Loop() {
		if n := matching(b, fleet); n != 167 {
			b.Fatalf("matched %d", n)
		}
	}
}

// The scheduler's config merge: 12 platform ConfigMaps (scalars, YAML maps, named
// lists) merged for one deployment target.
func platformConfig() []scheduler.ConfigMap {
	var out []scheduler.ConfigMap
	for i := range 12 {
		labels := map[string]string{v1alpha1.PlatformConfigLabel: "true"}
		switch i % 3 {
		case 1:
			labels[v1alpha1.ClusterTypeLabel] = "large"
		case 2:
			labels["region"] = "eu"
		}
		out = append(out, scheduler.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("platform-%02d", i), Labels: labels},
			Data: map[string]string{
				fmt.Sprintf("KEY_%d", i): fmt.Sprintf("value-%d", i),
				"DB_URL":                 fmt.Sprintf("postgres://db-%d:5432/app", i),
				"resources":              fmt.Sprintf("requests:\n  cpu: %dm\n  memory: %dMi\nlimits:\n  cpu: 1\n", 100+i, 128+i),
				"sidecars":               fmt.Sprintf("- name: proxy\n  image: envoy:1.%d\n- name: log-%d\n  image: fluent-bit:3\n", i, i),
			},
		})
	}
	return out
}

func clusterType() v1alpha1.ClusterType {
	return v1alpha1.ClusterType{ObjectMeta: metav1.ObjectMeta{Name: "large", Labels: map[string]string{"region": "eu"}}}
}

func target() scheduler.Target {
	return scheduler.Target{Name: "app-prod", Workload: "app", Environment: "prod", Labels: map[string]string{"workload": "app", "tier": "web"}}
}

func BenchmarkSchedulerMergeConfig(b *testing.B) {
	cms, ct, t := platformConfig(), clusterType(), target()
	b.ReportAllocs()
	for b.Loop() {
		if cfg := scheduler.MergeConfig(cms, ct, t); len(cfg) == 0 {
			b.Fatal("empty")
		}
	}
}
