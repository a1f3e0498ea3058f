package profiles_test

import (
	"context"
	"fmt"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/health"
)

// The summaries of two profiles with job checks in one cluster hold one watch
// of Jobs there (the registry's shared watches: one informer per cluster, kind
// and selector), and each reads its own Job's outcome from it. The test plays
// the Job controller by writing the Jobs' status.
func TestHealthJobsOfTwoSummariesShareOneWatch(t *testing.T) {
	ctx := context.Background()
	setLabels(t, "app-2", map[string]string{"jobshare": "yes"})
	t.Cleanup(func() { setLabels(t, "app-2", map[string]string{"jobshare": ""}) })
	jobRef := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "jobshare-job"},
		Data: map[string]string{"job.yaml": healthJob("http://web/healthz")}}
	if err := mgmt.Create(ctx, jobRef); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), jobRef) })
	c := managedClient(t, "app-2")
	var summaries []*configv1beta1.ClusterSummary
	for _, name := range []string{"jobshare-a", "jobshare-b"} {
		policyConfigMap(t, name+"-cm", fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": %q, "namespace": "default"}, "data": {"a": "1"}}`, name))
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.Spec{
			PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: name + "-cm"}},
			ValidateHealths: []libv1beta1.ValidateHealth{{Name: "smoke-test", FeatureID: libv1beta1.FeatureResources,
				JobCheck: &libv1beta1.JobCheck{JobRef: libv1beta1.JobRef{Kind: "ConfigMap", Namespace: "default", Name: "jobshare-job"}}}},
		}}
		p.Spec.ClusterSelector.MatchLabels = map[string]string{"jobshare": "yes"}
		if err := mgmt.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteProfileAndPolicies(t, p, name+"-cm") })
		summaries = append(summaries, waitSummary(t, name, "app-2", provisioningSaying("smoke-test", "has not completed yet")))
	}

	// Both wait for their Jobs: one watch of Jobs in app-2 serves them.
	app2 := libv1beta1.SveltosClusterID("fleet", "app-2")
	var jobWatches []clusters.WatchKey
	for _, key := range mgr.Registry.Watches().Keys() {
		if key.Cluster == app2 && key.GVK == batchv1.SchemeGroupVersion.WithKind("Job") {
			jobWatches = append(jobWatches, key)
		}
	}
	if len(jobWatches) != 1 || jobWatches[0].LabelSelector != health.JobOwnerLabel {
		t.Fatalf("watches of Jobs in app-2: %v; want one, selecting %s", jobWatches, health.JobOwnerLabel)
	}

	// Each summary reads its own Job from the shared watch: the first Job's
	// completion makes only the first profile Provisioned.
	playJobController(t, c, oneSummaryJob(t, c, summaries[0], nil), true)
	waitSummary(t, "jobshare-a", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	waitSummary(t, "jobshare-b", "app-2", provisioningSaying("smoke-test", "has not completed yet"))
	playJobController(t, c, oneSummaryJob(t, c, summaries[1], nil), true)
	waitSummary(t, "jobshare-b", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
}
