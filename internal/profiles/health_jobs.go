package profiles

import (
	"context"
	"fmt"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/health"
)

// Job checks (validateHealths[].jobCheck, and the same in preDeployChecks,
// preDeleteChecks, postDeleteChecks): the Job manifest of the jobRef is created
// in the managed cluster, under a name that hashes the summary, the check, the
// manifest and the run (for validateHealths, the deployed content of the
// feature). Its outcome decides the check: Complete passes, Failed fails with
// the Job's reason and message, anything else waits.
//
// The Jobs are read from one shared watch per cluster of every Job carrying
// the owner label (health.JobOwnerLabel), whichever summary created it: N
// summaries checking Jobs in a cluster hold one watch, and a change of a Job's
// status brings back the summaries holding it, without polling; each summary
// keeps the Jobs of its own owner label.
//
// Runs: a new run (the feature deployed again with another content, or another
// manifest) creates a new Job and deletes the Jobs of earlier runs of the
// check. A failed Job of a validateHealths check stays until the next run; a
// failed Job of a gate (preDeployChecks, preDeleteChecks, postDeleteChecks)
// runs again as a new attempt after HealthJobRetry, doubled at each failed
// attempt up to health.MaxJobRetry, and no more once maxConsecutiveFailures
// attempts failed (a new manifest starts again from the first attempt).
//
// Withdrawal (deleteHealthJobs): when the summary goes — its profile deleted
// or its cluster no longer matching — every Job it created in the cluster is
// deleted, as the identity that created them.

var jobGVK = batchv1.SchemeGroupVersion.WithKind("Job")

// jobWatchKey is the one watch of the Jobs of job checks in a cluster.
func jobWatchKey(cluster libv1beta1.ClusterID) clusters.WatchKey {
	return clusters.WatchKey{Cluster: cluster, GVK: jobGVK, LabelSelector: health.JobOwnerLabel}
}

// jobOwner is the owner label's subject for the summary's Jobs.
func jobOwner(s *configv1beta1.ClusterSummary) string { return s.Namespace + "/" + s.Name }

// evaluateJobCheck returns the failing message of a job check ("" when its Job
// completed). A jobRef that cannot be read or does not hold a Job is an error
// naming the profile, the check and the field.
func (r *SummaryReconciler) evaluateJobCheck(ctx context.Context, s *configv1beta1.ClusterSummary, cluster libv1beta1.ClusterID, holder string, c *health.Check, keep map[clusters.WatchKey]bool, run string) (string, error) {
	prof := profileOf(s)
	where := fmt.Sprintf("%s: %s: jobCheck", profileName(prof), c.Where())
	job, manifest, err := r.jobManifest(ctx, s, prof, c.Job.JobRef)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	owner := jobOwner(s)
	firstName := health.JobName(owner, c.Where(), manifest, run)
	runLabel := health.LabelHash(firstName)
	namespace := job.GetNamespace()
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	key := jobWatchKey(cluster)
	keep[key] = true
	synced, err := r.health.Watch(ctx, key, holder)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	if !synced {
		return fmt.Sprintf("%s: waiting for the watch of Jobs in cluster %s to sync", where, cluster), nil
	}
	jobs, err := r.health.List(key, "")
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	ownerLabel, checkLabel := health.LabelHash(owner), health.LabelHash(c.Where())
	// current is the latest attempt of this run; every other Job of the check
	// (earlier runs, earlier attempts) is deleted.
	var current *unstructured.Unstructured
	var earlier []*unstructured.Unstructured
	for i := range jobs {
		j := &jobs[i]
		if l := j.GetLabels(); l[health.JobOwnerLabel] != ownerLabel || l[health.JobCheckLabel] != checkLabel {
			continue
		}
		ofRun := j.GetNamespace() == namespace && (j.GetName() == firstName || j.GetLabels()[health.JobRunLabel] == runLabel)
		switch {
		case !ofRun:
			earlier = append(earlier, j)
		case current == nil:
			current = j
		case health.JobAttempt(j) > health.JobAttempt(current):
			earlier, current = append(earlier, current), j
		default:
			earlier = append(earlier, j)
		}
	}
	attempt, failing := 1, ""
	if current != nil {
		attempt = health.JobAttempt(current)
		done, healthy, msg := health.JobOutcome(current)
		switch {
		case healthy:
		case !done || c.Field == health.ValidateHealths:
			failing = where + ": " + msg
		case s.Spec.ClusterProfileSpec.MaxConsecutiveFailures != nil && attempt >= int(*s.Spec.ClusterProfileSpec.MaxConsecutiveFailures):
			failing = fmt.Sprintf("%s: %s (stopped running it again after %d failed attempts, maxConsecutiveFailures: a new Job manifest runs it again)", where, msg, attempt)
		default:
			// A gate's failed Job runs again after its backoff, as a new attempt.
			delay := health.JobRetryDelay(r.HealthJobRetry, attempt)
			if left := time.Until(health.JobFailedAt(current).Add(delay)); left > 0 {
				askComeBack(ctx, left)
				failing = fmt.Sprintf("%s: %s (attempt %d; runs again %s after it failed)", where, msg, attempt, delay)
			} else {
				earlier, current = append(earlier, current), nil
				attempt++
			}
		}
	}
	if current != nil && len(earlier) == 0 {
		return failing, nil
	}
	// A tenant's profile creates and deletes its Jobs as the tenant, as it
	// deploys: a check runs nothing its author could not run.
	tenant, err := r.tenantOf(ctx, prof)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	cl, err := r.clientAs(ctx, cluster, tenant)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	deleteEarlier := func() error {
		for _, j := range earlier {
			if err := cl.Delete(ctx, j, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s: deleting the Job %s/%s of an earlier run: %w", where, j.GetNamespace(), j.GetName(), err)
			}
		}
		return nil
	}
	if current != nil {
		if err := deleteEarlier(); err != nil {
			return "", err
		}
		return failing, nil
	}
	name := firstName
	if attempt > 1 {
		name = health.JobName(owner, c.Where(), manifest, fmt.Sprintf("%s#%d", run, attempt))
	}
	job.SetName(name)
	job.SetGenerateName("")
	job.SetNamespace(namespace)
	job.SetResourceVersion("")
	labels := job.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[health.JobOwnerLabel] = ownerLabel
	labels[health.JobCheckLabel] = checkLabel
	labels[health.JobRunLabel] = runLabel
	labels[health.JobAttemptLabel] = strconv.Itoa(attempt)
	job.SetLabels(labels)
	unstructured.RemoveNestedField(job.Object, "status")
	if err := cl.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("%s: creating the Job %s/%s in cluster %s: %w", where, namespace, name, cluster, err)
	}
	// The earlier attempts go only once the new one exists: a reconcile that saw
	// them deleted but not the new one created would start attempt 1 again.
	if err := deleteEarlier(); err != nil {
		return "", err
	}
	r.event(s, corev1.EventTypeNormal, "HealthCheckJobCreated", fmt.Sprintf("%s: created the Job %s/%s in cluster %s (attempt %d)", where, namespace, name, cluster, attempt))
	return fmt.Sprintf("%s: Job %s/%s has not completed yet", where, namespace, name), nil
}

// hasJobChecks reports whether any check list of the spec has a jobCheck.
func hasJobChecks(spec *configv1beta1.Spec) bool {
	for _, list := range [][]libv1beta1.ValidateHealth{spec.ValidateHealths, spec.PreDeployChecks, spec.PreDeleteChecks, spec.PostDeleteChecks} {
		for _, vh := range list {
			if vh.JobCheck != nil {
				return true
			}
		}
	}
	return false
}

// deleteHealthJobs deletes, when the summary is withdrawn, every Job its job
// checks created in its cluster (found by the owner label), as the identity
// that created them: the tenant of a tenant's profile, else the manager. A
// cluster that is gone has nothing to delete.
func (r *SummaryReconciler) deleteHealthJobs(ctx context.Context, s *configv1beta1.ClusterSummary) error {
	if !hasJobChecks(&s.Spec.ClusterProfileSpec) {
		return nil
	}
	cluster := s.Cluster()
	if _, err := r.Fleet.Get(ctx, cluster); apierrors.IsNotFound(err) {
		return nil
	}
	where := fmt.Sprintf("deleting the health check Jobs of ClusterSummary %s/%s in cluster %s", s.Namespace, s.Name, cluster)
	reader, err := r.clientFor(ctx, cluster)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	jobs := &metav1.PartialObjectMetadataList{}
	jobs.SetGroupVersionKind(batchv1.SchemeGroupVersion.WithKind("JobList"))
	if err := reader.List(ctx, jobs, client.MatchingLabels{health.JobOwnerLabel: health.LabelHash(jobOwner(s))}); err != nil {
		return fmt.Errorf("%s: listing them: %w", where, err)
	}
	if len(jobs.Items) == 0 {
		return nil
	}
	tenant, err := r.tenantOf(ctx, profileOf(s))
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	cl, err := r.clientAs(ctx, cluster, tenant)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		j.SetGroupVersionKind(jobGVK)
		if err := cl.Delete(ctx, j, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: Job %s/%s: %w", where, j.Namespace, j.Name, err)
		}
	}
	r.event(s, corev1.EventTypeNormal, "HealthCheckJobsDeleted", fmt.Sprintf("deleted %d health check Jobs in cluster %s", len(jobs.Items), cluster))
	return nil
}

// jobManifest reads the Job of a jobRef: a ConfigMap or Secret in the
// management cluster (an empty namespace is the Profile's, or the cluster's for
// a ClusterProfile).
func (r *SummaryReconciler) jobManifest(ctx context.Context, s *configv1beta1.ClusterSummary, prof configv1beta1.ProfileRef, ref libv1beta1.JobRef) (*unstructured.Unstructured, []byte, error) {
	ns := ref.Namespace
	if ns == "" {
		ns = referenceNamespace(prof)
	}
	if ns == "" {
		ns = s.Spec.ClusterNamespace
	}
	if prof.Kind == configv1beta1.ProfileKind && ns != prof.Namespace {
		return nil, nil, fmt.Errorf("jobRef %s %s/%s is outside the Profile's namespace", ref.Kind, ns, ref.Name)
	}
	nn := types.NamespacedName{Namespace: ns, Name: ref.Name}
	data := map[string][]byte{}
	var err error
	switch ref.Kind {
	case "Secret":
		sec := &corev1.Secret{}
		if err = r.Client.Get(ctx, nn, sec); err == nil {
			data = sec.Data
		}
	default:
		cm := &corev1.ConfigMap{}
		if err = r.Client.Get(ctx, nn, cm); err == nil {
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
			for k, v := range cm.BinaryData {
				data[k] = v
			}
		}
	}
	if apierrors.IsNotFound(err) {
		return nil, nil, fmt.Errorf("jobRef: %s %s not found", ref.Kind, nn)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("jobRef: reading %s %s: %w", ref.Kind, nn, err)
	}
	job, manifest, err := health.ParseJob(data)
	if err != nil {
		return nil, nil, fmt.Errorf("jobRef: %s %s: %w", ref.Kind, nn, err)
	}
	return job, manifest, nil
}
