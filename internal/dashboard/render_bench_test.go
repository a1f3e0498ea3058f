package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// listReader serves lists held in memory the way the manager's cache does
// with UnsafeDisableDeepCopy (no copy), honouring namespace and label
// selector, so that the benchmarks measure the dashboard's own work.
type listReader struct {
	lists map[reflect.Type]client.ObjectList
}

func (r listReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return fmt.Errorf("not in the benchmark")
}

func (r listReader) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := (&client.ListOptions{}).ApplyOptions(opts)
	src, ok := r.lists[reflect.TypeOf(list)]
	if !ok {
		return nil
	}
	items, err := meta.ExtractList(src)
	if err != nil {
		return err
	}
	var kept []runtime.Object
	for _, it := range items {
		m := it.(metav1.Object)
		if o.Namespace != "" && m.GetNamespace() != o.Namespace {
			continue
		}
		if o.LabelSelector != nil && !o.LabelSelector.Matches(labels.Set(m.GetLabels())) {
			continue
		}
		kept = append(kept, it)
	}
	return meta.SetList(list, kept)
}

// benchFleet: nClusters clusters, nProfiles ClusterProfiles, each deployed
// to perProfile of them (perProfile × nProfiles ClusterSummaries), one in
// ten failing.
func benchFleet(nClusters, nProfiles, perProfile int) *Server {
	cl := &libv1beta1.SveltosClusterList{}
	for i := range nClusters {
		c := libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: fmt.Sprintf("c-%03d", i),
			Labels: map[string]string{"env": "prod", "region": fmt.Sprintf("r%d", i%5)}}}
		c.Status.Ready, c.Status.Version = true, "v1.36.3"
		cl.Items = append(cl.Items, c)
	}
	pl := &configv1beta1.ClusterProfileList{}
	sl := &configv1beta1.ClusterSummaryList{}
	for p := range nProfiles {
		name := fmt.Sprintf("p-%02d", p)
		prof := configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
		for c := range perProfile {
			cluster := cl.Items[(p*7+c)%nClusters]
			id := libv1beta1.SveltosClusterID(cluster.Namespace, cluster.Name)
			prof.Status.MatchingClusterRefs = append(prof.Status.MatchingClusterRefs, id.Ref())
			s := configv1beta1.ClusterSummary{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace,
				Name:   configv1beta1.ClusterSummaryNameFor(configv1beta1.ClusterProfileKind, name, id),
				Labels: map[string]string{configv1beta1.ClusterProfileNameLabel: name, configv1beta1.ClusterNameLabel: cluster.Name}},
				Spec: configv1beta1.ClusterSummarySpec{ClusterNamespace: cluster.Namespace, ClusterName: cluster.Name, ClusterType: libv1beta1.ClusterTypeSveltos}}
			fs := configv1beta1.FeatureSummary{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusProvisioned}
			if c%10 == 0 {
				msg := `Widget default/broken: finding its resource in the cluster: no matches for kind "Widget" in version "example.com/v1"`
				fs.Status, fs.FailureMessage, fs.ConsecutiveFailures = libv1beta1.FeatureStatusFailed, &msg, 3
			}
			s.Status.FeatureSummaries = []configv1beta1.FeatureSummary{fs}
			sl.Items = append(sl.Items, s)
		}
		pl.Items = append(pl.Items, prof)
	}
	reader := listReader{lists: map[reflect.Type]client.ObjectList{
		reflect.TypeOf(cl): cl, reflect.TypeOf(pl): pl, reflect.TypeOf(sl): sl,
	}}
	return &Server{Fleet: clusters.Fleet{Reader: reader}}
}

func benchPage(b *testing.B, path string) {
	b.Run("2000-summaries", func(b *testing.B) { benchRender(b, benchFleet(200, 20, 100), path) })
	b.Run("10000-summaries", func(b *testing.B) { benchRender(b, benchFleet(1000, 50, 200), path) })
}

func benchRender(b *testing.B, s *Server, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
	}
}

// Pages over 2000 ClusterSummaries (200 clusters, 20 profiles) and 10000
// (1000 clusters, 50 profiles): go test -run '^$' -bench . ./internal/dashboard/.
func BenchmarkClustersPage(b *testing.B)         { benchPage(b, "/clusters") }
func BenchmarkClustersPageFiltered(b *testing.B) { benchPage(b, "/clusters?q=region%3Dr3&page=2") }
func BenchmarkProfilesPage(b *testing.B)         { benchPage(b, "/profiles") }
