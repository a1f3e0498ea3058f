package profiles_test

import (
	"context"
	"fmt"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/health"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// healthJob is a Job manifest as a jobRef ConfigMap holds it.
func healthJob(args string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: ignored
  namespace: default
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: smoke
        image: curlimages/curl:8.10.1
        args: [%q]
`, args)
}

// A validateHealths jobCheck: once the feature is deployed, Tugboat creates the
// jobRef's Job in the cluster and the feature stays Provisioning until the Job
// completes; a failed Job keeps it Provisioning with the Job's reason and
// message; a changed manifest is a new run (a new Job, the old one deleted),
// and its completion makes the feature Provisioned. A jobRef that does not
// exist keeps the feature Provisioning with a message and an Event. The test clusters have no
// kubelet or Job controller: the test plays the Job controller by writing the
// Job's status (conditions, counts, times) through the status subresource.
func TestValidateHealthJobCheck(t *testing.T) {
	ctx := context.Background()
	setLabels(t, "app-1", map[string]string{"jobcheck": "yes"})
	t.Cleanup(func() { setLabels(t, "app-1", map[string]string{"jobcheck": ""}) })
	policyConfigMap(t, "jobcheck-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "jobcheck", "namespace": "default"}, "data": {"a": "1"}}`)
	jobRef := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "jobcheck-job"},
		Data: map[string]string{"job.yaml": healthJob("http://web/healthz")}}
	if err := mgmt.Create(ctx, jobRef); err != nil {
		t.Fatal(err)
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "jobcheck"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "jobcheck-cm"}},
		ValidateHealths: []libv1beta1.ValidateHealth{{Name: "smoke-test", FeatureID: libv1beta1.FeatureResources,
			JobCheck: &libv1beta1.JobCheck{JobRef: libv1beta1.JobRef{Kind: "ConfigMap", Namespace: "default", Name: "jobcheck-job"}}}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"jobcheck": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	c := managedClient(t, "app-1")
	t.Cleanup(func() {
		deleteProfileAndPolicies(t, p, "jobcheck-cm", "jobcheck-job")
		// The withdrawal deletes the check's Jobs (validate_health_job_check_withdrawal_test.go);
		// this tidies up after a run that failed before it.
		_ = c.DeleteAllOf(context.Background(), &batchv1.Job{}, client.InNamespace("default"), client.HasLabels{health.JobCheckLabel})
	})

	// healthJobs lists the Jobs of the check in the cluster.
	healthJobs := func() ([]batchv1.Job, error) {
		list := &batchv1.JobList{}
		err := c.List(ctx, list, client.InNamespace("default"), client.HasLabels{health.JobCheckLabel})
		return list.Items, err
	}
	// oneJob waits until the check has exactly one Job, running arg.
	oneJob := func(t *testing.T, arg string) batchv1.Job {
		t.Helper()
		var job batchv1.Job
		testenv.Eventually(t, "one health Job running "+arg+" in app-1", func() error {
			jobs, err := healthJobs()
			if err != nil {
				return err
			}
			if len(jobs) != 1 {
				return fmt.Errorf("%d health Jobs", len(jobs))
			}
			if args := jobs[0].Spec.Template.Spec.Containers[0].Args; len(args) != 1 || args[0] != arg {
				return fmt.Errorf("the Job %s runs %v", jobs[0].Name, args)
			}
			job = jobs[0]
			return nil
		})
		return job
	}
	finish := func(t *testing.T, job batchv1.Job, complete bool) { playJobController(t, c, job, complete) }

	// Deployed, the Job created and not done: Provisioning, saying so.
	first := oneJob(t, "http://web/healthz")
	waitSummary(t, "jobcheck", "app-1", provisioningSaying("validateHealths[0] smoke-test", "jobCheck", first.Name, "has not completed yet"))

	// The Job fails: still Provisioning, with the Job's reason and message.
	finish(t, first, false)
	waitSummary(t, "jobcheck", "app-1", provisioningSaying("ClusterProfile jobcheck", "validateHealths[0] smoke-test", "failed (BackoffLimitExceeded): Job has reached the specified backoff limit"))

	// A changed manifest is a new run: a new Job replaces the failed one.
	jobRef.Data = map[string]string{"job.yaml": healthJob("http://web/readyz")}
	if err := mgmt.Update(ctx, jobRef); err != nil {
		t.Fatal(err)
	}
	second := oneJob(t, "http://web/readyz")
	testenv.Eventually(t, "the failed Job deleted", func() error {
		return notFound(c, &batchv1.Job{}, types.NamespacedName{Namespace: "default", Name: first.Name})
	})
	waitSummary(t, "jobcheck", "app-1", provisioningSaying(second.Name, "has not completed yet"))

	// It completes: Provisioned.
	finish(t, second, true)
	waitSummary(t, "jobcheck", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))

	// Bad input: a jobRef naming a ConfigMap that does not exist. The deployed
	// objects stay; the feature waits, saying which profile, check and field.
	updateClusterProfile(t, "jobcheck", func(p *configv1beta1.ClusterProfile) {
		p.Spec.ValidateHealths[0].JobCheck.JobRef.Name = "jobcheck-missing"
	})
	s := waitSummary(t, "jobcheck", "app-1", provisioningSaying("ClusterProfile jobcheck", "validateHealths[0] smoke-test: jobCheck: jobRef: ConfigMap default/jobcheck-missing not found"))
	waitEvent(t, s.Namespace, s.Name, "HealthCheckError", "jobRef: ConfigMap default/jobcheck-missing not found")
	if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "jobcheck"}, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the deployed ConfigMap: %v", err)
	}
}

// playJobController plays the Job controller (no kubelet or Job controller
// runs in the test clusters): the Job ends as Complete or Failed, written
// through the status subresource.
func playJobController(t *testing.T, c client.Client, job batchv1.Job, complete bool) {
	t.Helper()
	now := metav1.Now()
	job.Status.StartTime = &now
	if complete {
		job.Status.Succeeded, job.Status.CompletionTime = 1, &now
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
		}
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now, LastProbeTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now, LastProbeTime: now},
		}
	}
	if err := c.Status().Update(context.Background(), &job); err != nil {
		t.Fatal(err)
	}
}

// summaryJobs lists the health check Jobs summary s created in the cluster c
// reaches (by their owner label).
func summaryJobs(c client.Client, s *configv1beta1.ClusterSummary) ([]batchv1.Job, error) {
	list := &batchv1.JobList{}
	err := c.List(context.Background(), list, client.MatchingLabels{health.JobOwnerLabel: health.LabelHash(s.Namespace + "/" + s.Name)})
	return list.Items, err
}

// oneSummaryJob waits until summary s has exactly one health check Job in the
// cluster c reaches, whose labels include want, and returns it.
func oneSummaryJob(t *testing.T, c client.Client, s *configv1beta1.ClusterSummary, want map[string]string) batchv1.Job {
	t.Helper()
	var job batchv1.Job
	testenv.Eventually(t, fmt.Sprintf("one health Job of %s with labels %v", s.Name, want), func() error {
		jobs, err := summaryJobs(c, s)
		if err != nil {
			return err
		}
		if len(jobs) != 1 {
			return fmt.Errorf("%d health Jobs", len(jobs))
		}
		for k, v := range want {
			if got := jobs[0].Labels[k]; got != v {
				return fmt.Errorf("the Job %s has %s=%q", jobs[0].Name, k, got)
			}
		}
		job = jobs[0]
		return nil
	})
	return job
}

// deleteProfileAndPolicies deletes a test's ClusterProfile, waits until it is
// gone (its summaries withdrawn), and deletes the ConfigMaps of default it
// read, so that the test can run again (-count).
func deleteProfileAndPolicies(t *testing.T, p *configv1beta1.ClusterProfile, configMaps ...string) {
	ctx := context.Background()
	_ = mgmt.Delete(ctx, p)
	testenv.Eventually(t, "ClusterProfile "+p.Name+" gone", func() error {
		return notFound(mgmt, &configv1beta1.ClusterProfile{}, types.NamespacedName{Name: p.Name})
	})
	for _, name := range configMaps {
		_ = mgmt.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}})
	}
}
