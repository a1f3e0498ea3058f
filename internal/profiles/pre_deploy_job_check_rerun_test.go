package profiles_test

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/health"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A failed Job of a gate's jobCheck (here preDeployChecks) runs again: after
// the retry wait (500ms in this package, 10s by default, doubled at each
// attempt) a new attempt replaces the failed Job; once maxConsecutiveFailures
// attempts failed it is not run again and the status says so; a new Job
// manifest starts from the first attempt, and its completion lets the feature
// deploy. The test plays the Job controller by writing the Jobs' status.
func TestPreDeployJobCheckRunsAgainAfterFailure(t *testing.T) {
	ctx := context.Background()
	setLabels(t, "app-1", map[string]string{"jobrerun": "yes"})
	t.Cleanup(func() { setLabels(t, "app-1", map[string]string{"jobrerun": ""}) })
	policyConfigMap(t, "jobrerun-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "jobrerun", "namespace": "default"}, "data": {"a": "1"}}`)
	jobRef := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "jobrerun-job"},
		Data: map[string]string{"job.yaml": healthJob("http://db/ready")}}
	if err := mgmt.Create(ctx, jobRef); err != nil {
		t.Fatal(err)
	}
	two := int32(2)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "jobrerun"}, Spec: configv1beta1.Spec{
		PolicyRefs:             []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "jobrerun-cm"}},
		MaxConsecutiveFailures: &two,
		PreDeployChecks: []libv1beta1.ValidateHealth{{Name: "db-ready", FeatureID: libv1beta1.FeatureResources,
			JobCheck: &libv1beta1.JobCheck{JobRef: libv1beta1.JobRef{Kind: "ConfigMap", Namespace: "default", Name: "jobrerun-job"}}}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"jobrerun": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteProfileAndPolicies(t, p, "jobrerun-cm", "jobrerun-job") })
	c := managedClient(t, "app-1")

	// The first attempt runs; the feature waits for it.
	s := waitSummary(t, "jobrerun", "app-1", provisioningSaying("waiting for preDeployChecks", "preDeployChecks[0] db-ready: jobCheck", "has not completed yet"))
	first := oneSummaryJob(t, c, s, map[string]string{health.JobAttemptLabel: "1"})

	// It fails: a second attempt replaces it.
	playJobController(t, c, first, false)
	second := oneSummaryJob(t, c, s, map[string]string{health.JobAttemptLabel: "2"})
	if second.Name == first.Name {
		t.Fatalf("the second attempt reuses the name %s", first.Name)
	}
	testenv.Eventually(t, "the failed first attempt deleted", func() error {
		return notFound(c, &batchv1.Job{}, types.NamespacedName{Namespace: first.Namespace, Name: first.Name})
	})

	// It fails too: maxConsecutiveFailures (2) reached, no third attempt.
	playJobController(t, c, second, false)
	waitSummary(t, "jobrerun", "app-1", provisioningSaying("failed (BackoffLimitExceeded)", "stopped running it again after 2 failed attempts, maxConsecutiveFailures"))
	oneSummaryJob(t, c, s, map[string]string{health.JobAttemptLabel: "2"})
	if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "jobrerun"}, &corev1.ConfigMap{}); err == nil {
		t.Fatal("the gated ConfigMap was deployed though its preDeployChecks failed")
	}

	// A new manifest starts again from the first attempt; it completes and the
	// feature deploys.
	jobRef.Data = map[string]string{"job.yaml": healthJob("http://db/healthz")}
	if err := mgmt.Update(ctx, jobRef); err != nil {
		t.Fatal(err)
	}
	fresh := oneSummaryJob(t, c, s, map[string]string{health.JobAttemptLabel: "1"})
	if args := fresh.Spec.Template.Spec.Containers[0].Args; len(args) != 1 || args[0] != "http://db/healthz" {
		t.Fatalf("the new attempt runs %v", args)
	}
	playJobController(t, c, fresh, true)
	waitSummary(t, "jobrerun", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	testenv.Eventually(t, "the gated ConfigMap in app-1", configMapIn("app-1", "default", "jobrerun"))
}
