package templating

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func BenchmarkRenderProfileJob(b *testing.B) {
	text, _ := fixtureTemplate(b, "job-to-create-table.yaml", "ConfigMap", "job-to-create-table", "job-to-create-table.yaml")
	cluster := mm(ClusterMap(workloadCluster()))
	res := map[string]map[string]any{
		"Credentials":  mm(ObjectMap(pgCredentials())),
		"LoadBalancer": mm(ObjectMap(pgLoadBalancerData())),
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx := NewProfileContext(cluster, res)
		if _, err := ctx.Render("job", text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderInstantiateCredentials(b *testing.B) {
	text, _ := fixtureTemplate(b, "fetch-postgres-data.yaml", "Secret", "credentials", "credentials")
	cluster := mm(ClusterMap(servicesCluster()))
	secret := mm(ObjectMap(operatorSecret()))
	ref := corev1.ObjectReference{Kind: "Secret", Namespace: "prod", Name: "cluster-workload-app"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewEventContext(cluster, ref, secret).Render("credentials", text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderPlain(b *testing.B) {
	data := map[string]any{"name": "x"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render("plain", "name: {{ .name }}\n", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitDocuments(b *testing.B) {
	doc := golden(b, "job-to-create-table.yaml")
	data := strings.Repeat("---\n"+doc, 10)
	b.ReportAllocs()
	for b.Loop() {
		objs, err := SplitDocuments("bench", data)
		if err != nil || len(objs) != 10 {
			b.Fatal(err, len(objs))
		}
	}
}

func BenchmarkChainSetField(b *testing.B) {
	obj := mm(ObjectMap(operatorService()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := chainSetFieldFunc(obj, "spec.ports[0].port", 6432); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetField(b *testing.B) {
	obj := mm(ObjectMap(operatorService()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := getField("getField", obj, "status.loadBalancer.ingress[0].ip"); err != nil {
			b.Fatal(err)
		}
	}
}
