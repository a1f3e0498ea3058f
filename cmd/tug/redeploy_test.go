package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// `tug redeploy cluster` clears the feature hashes of the cluster's summaries in
// dependsOn order, leaves other clusters alone and marks the profiles.
func TestRedeployCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	must(t, clusters.EnsureNamespace(ctx, mgmt, "redeploy"))
	hashed := configv1beta1.ClusterSummaryStatus{FeatureSummaries: []configv1beta1.FeatureSummary{
		{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusProvisioned, Hash: []byte("resources")},
		{FeatureID: libv1beta1.FeatureHelm, Status: libv1beta1.FeatureStatusProvisioned, Hash: []byte("helm")},
	}}
	// redeploy-a depends on redeploy-c, which depends on redeploy-b.
	deps := map[string][]string{"redeploy-a": {"redeploy-c"}, "redeploy-b": nil, "redeploy-c": {"redeploy-b", "not-deployed-here"}}
	for _, name := range []string{"redeploy-a", "redeploy-b", "redeploy-c"} {
		must(t, mgmt.Create(ctx, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.Spec{DependsOn: deps[name]}}))
		createSummary(t, "ClusterProfile", name, "redeploy", "c1", configv1beta1.Spec{DependsOn: deps[name]}, hashed)
	}
	other := createSummary(t, "ClusterProfile", "redeploy-a", "redeploy", "c2", configv1beta1.Spec{}, hashed)

	out, err := tug(t, "redeploy", "cluster", "--namespace=redeploy", "--cluster=c1")
	if err != nil {
		t.Fatalf("redeploy: %v\n%s", err, out)
	}
	want := `ClusterProfile/redeploy-b: redeploy requested (ClusterSummary redeploy/redeploy-b-sveltos-c1)
ClusterProfile/redeploy-c: redeploy requested (ClusterSummary redeploy/redeploy-c-sveltos-c1)
ClusterProfile/redeploy-a: redeploy requested (ClusterSummary redeploy/redeploy-a-sveltos-c1)
`
	if out != want {
		t.Errorf("redeploy output:\n%s\nwant:\n%s", out, want)
	}
	for _, name := range []string{"redeploy-a", "redeploy-b", "redeploy-c"} {
		s := &configv1beta1.ClusterSummary{}
		must(t, mgmt.Get(ctx, types.NamespacedName{Namespace: "redeploy", Name: configv1beta1.ClusterSummaryName("ClusterProfile", name, "c1")}, s))
		if len(s.Status.FeatureSummaries) != 2 {
			t.Errorf("%s: feature summaries %v", s.Name, s.Status.FeatureSummaries)
		}
		for _, fs := range s.Status.FeatureSummaries {
			if fs.Hash != nil || fs.Status != libv1beta1.FeatureStatusProvisioned {
				t.Errorf("%s %s: hash %q status %s after redeploy", s.Name, fs.FeatureID, fs.Hash, fs.Status)
			}
		}
		cp := &configv1beta1.ClusterProfile{}
		must(t, mgmt.Get(ctx, types.NamespacedName{Name: name}, cp))
		if cp.Annotations[RedeployAnnotation] == "" {
			t.Errorf("ClusterProfile %s not marked for redeployment", name)
		}
	}
	s := &configv1beta1.ClusterSummary{}
	must(t, mgmt.Get(ctx, types.NamespacedName{Namespace: "redeploy", Name: other.Name}, s))
	if fs := s.FeatureSummary(libv1beta1.FeatureResources); fs == nil || string(fs.Hash) != "resources" {
		t.Errorf("summary of another cluster changed: %+v", s.Status.FeatureSummaries)
	}

	_, err = tug(t, "redeploy", "cluster", "-n", "redeploy", "--cluster=nope")
	if err == nil || !strings.Contains(err.Error(), "no profile is deployed to cluster redeploy/nope") {
		t.Errorf("unknown cluster: %v", err)
	}
	_, err = tug(t, "redeploy", "cluster", "--cluster=c1")
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("missing --namespace: %v, want a usage error", err)
	}
}
