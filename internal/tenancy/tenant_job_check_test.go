package tenancy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A tenant's validateHealths jobCheck runs its Job as the tenant: team-a may
// deploy ConfigMaps in apps but not create Jobs, so the deployed feature stays
// Provisioning with the API server's refusal, and no Job exists in the cluster.
func TestTenantJobCheckRunsAsTheTenant(t *testing.T) {
	ctx := context.Background()
	grantTeamA(t)
	create(t, mgmt,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "jobcheck-policy"},
			Data: map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: jobcheck-config\n  namespace: apps\n"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "jobcheck-job"},
			Data: map[string]string{"job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  namespace: apps\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox\n"}})
	p := tenantProfile("jobcheck", "jobcheck-policy")
	p.Spec.ValidateHealths = []libv1beta1.ValidateHealth{{Name: "smoke", FeatureID: libv1beta1.FeatureResources,
		JobCheck: &libv1beta1.JobCheck{JobRef: libv1beta1.JobRef{Kind: "ConfigMap", Name: "jobcheck-job"}}}}
	create(t, mgmt, p)
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), p) })

	testenv.Eventually(t, "the tenant's Job refused", func() error {
		s, err := summaryOf(ctx, "jobcheck")
		if err != nil {
			return err
		}
		fs := s.FeatureSummary(libv1beta1.FeatureResources)
		if fs == nil || fs.Status != libv1beta1.FeatureStatusProvisioning || fs.FailureMessage == nil {
			return fmt.Errorf("feature summaries %+v", s.Status.FeatureSummaries)
		}
		for _, want := range []string{"validateHealths[0] smoke: jobCheck: creating the Job apps/", "forbidden"} {
			if !strings.Contains(*fs.FailureMessage, want) {
				return fmt.Errorf("message %q lacks %q", *fs.FailureMessage, want)
			}
		}
		return nil
	})
	if err := a1.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "jobcheck-config"}, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the tenant's ConfigMap is deployed: %v", err)
	}
	jobs := &batchv1.JobList{}
	if err := a1.List(ctx, jobs, client.InNamespace("apps")); err != nil || len(jobs.Items) != 0 {
		t.Fatalf("Jobs in a1/apps: %d (%v), want none", len(jobs.Items), err)
	}
}
