package selection

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// benchFleet is 1000 clusters in 10 namespaces with realistic labels; a third
// are env=prod in region eu or us.
func benchFleet() []libv1beta1.SveltosCluster {
	envs := []string{"prod", "staging", "dev"}
	regions := []string{"eu", "us", "ap", "sa"}
	out := make([]libv1beta1.SveltosCluster, 1000)
	for i := range out {
		out[i] = cluster(fmt.Sprintf("team-%d", i%10), fmt.Sprintf("cluster-%04d", i), map[string]string{
			"env":                          envs[i%3],
			"region":                       regions[i%4],
			"type":                         "app",
			libv1beta1.K8sVersionLabel:     "v1.33.1",
			"topology.example.com/zone-id": fmt.Sprintf("z%d", i%7),
		})
	}
	return out
}

func benchSelector() libv1beta1.Selector {
	return sel(map[string]string{"env": "prod", "type": "app"},
		expr("region", metav1.LabelSelectorOpIn, "eu", "us"),
		expr("decommissioned", metav1.LabelSelectorOpDoesNotExist))
}

func BenchmarkMatches1000(b *testing.B) {
	fleet := benchFleet()
	s := benchSelector()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for i := range fleet {
			ok, err := Matches(s, fleet[i].Labels)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				n++
			}
		}
		if n != 167 {
			b.Fatalf("matched %d", n)
		}
	}
}

func BenchmarkCompiledMatches1000(b *testing.B) {
	fleet := benchFleet()
	s, err := Compile(benchSelector())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for i := range fleet {
			if s.Matches(labels.Set(fleet[i].Labels)) {
				n++
			}
		}
		if n != 167 {
			b.Fatalf("matched %d", n)
		}
	}
}

func BenchmarkMatchingClusters1000(b *testing.B) {
	fleet := benchFleet()
	scope := Scope{ClusterSelector: benchSelector()}
	b.ReportAllocs()
	for b.Loop() {
		got, err := MatchingClusters(scope, FromSveltosList(fleet))
		if err != nil || len(got) != 167 {
			b.Fatal(err, len(got))
		}
	}
}

func BenchmarkSelectSet1000(b *testing.B) {
	fleet := benchFleet()
	spec := libv1beta1.SetSpec{ClusterSelector: benchSelector(), MaxReplicas: 50}
	first, err := SelectSet("", spec, nil, FromSveltosList(fleet))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := SelectSet("", spec, first.SelectedClusterRefs, FromSveltosList(fleet))
		if err != nil || len(st.SelectedClusterRefs) != 50 {
			b.Fatal(err, len(st.SelectedClusterRefs))
		}
	}
}
