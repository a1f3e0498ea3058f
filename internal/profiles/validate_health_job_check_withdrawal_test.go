package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The Jobs a summary's job checks created in its cluster go with the summary:
// when the cluster stops matching the profile, and when the profile is deleted,
// the withdrawal deletes them (the test clusters run no Job controller: the
// Jobs are only created and deleted here).
func TestHealthJobsDeletedOnWithdrawal(t *testing.T) {
	ctx := context.Background()
	setLabels(t, "app-2", map[string]string{"jobwithdraw": "yes"})
	t.Cleanup(func() { setLabels(t, "app-2", map[string]string{"jobwithdraw": ""}) })
	policyConfigMap(t, "jobwithdraw-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "jobwithdraw", "namespace": "default"}, "data": {"a": "1"}}`)
	jobRef := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "jobwithdraw-job"},
		Data: map[string]string{"job.yaml": healthJob("http://web/healthz")}}
	if err := mgmt.Create(ctx, jobRef); err != nil {
		t.Fatal(err)
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "jobwithdraw"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "jobwithdraw-cm"}},
		ValidateHealths: []libv1beta1.ValidateHealth{{Name: "smoke-test", FeatureID: libv1beta1.FeatureResources,
			JobCheck: &libv1beta1.JobCheck{JobRef: libv1beta1.JobRef{Kind: "ConfigMap", Namespace: "default", Name: "jobwithdraw-job"}}}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"jobwithdraw": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteProfileAndPolicies(t, p, "jobwithdraw-cm", "jobwithdraw-job") })
	c := managedClient(t, "app-2")
	noJobs := func(s *configv1beta1.ClusterSummary) func() error {
		return func() error {
			jobs, err := summaryJobs(c, s)
			if err != nil {
				return err
			}
			if len(jobs) > 0 {
				return fmt.Errorf("%d health Jobs left, %s among them", len(jobs), jobs[0].Name)
			}
			return nil
		}
	}

	// The cluster stops matching: the summary is withdrawn and its Job deleted.
	s := waitSummary(t, "jobwithdraw", "app-2", provisioningSaying("smoke-test", "has not completed yet"))
	oneSummaryJob(t, c, s, nil)
	setLabels(t, "app-2", map[string]string{"jobwithdraw": ""})
	testenv.Eventually(t, "the health Job deleted after app-2 stopped matching", noJobs(s))

	// It matches again (a new Job), then the profile is deleted: the Job goes too.
	setLabels(t, "app-2", map[string]string{"jobwithdraw": "yes"})
	s = waitSummary(t, "jobwithdraw", "app-2", provisioningSaying("smoke-test", "has not completed yet"))
	oneSummaryJob(t, c, s, nil)
	deleteProfileAndPolicies(t, p, "jobwithdraw-cm", "jobwithdraw-job")
	testenv.Eventually(t, "the health Job deleted with the profile", noJobs(s))
}
