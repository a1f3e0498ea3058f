package profiles

import (
	"context"
	"fmt"

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

// Job checks (validateHealths[].jobCheck): the Job manifest of the jobRef is
// created in the managed cluster, under a name that hashes the summary, the
// check, the manifest and the run (for validateHealths, the deployed content of
// the feature). Its outcome decides the check: Complete passes, Failed fails
// with the Job's reason and message, anything else waits. The Jobs are read
// from a shared watch of the cluster (their owner label): a change of their
// status brings the summary back, without polling. A new run (the feature
// deployed again with another content, or another manifest) creates a new Job
// and deletes the Jobs of earlier runs of the check.

var jobGVK = batchv1.SchemeGroupVersion.WithKind("Job")

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
	owner := s.Namespace + "/" + s.Name
	name := health.JobName(owner, c.Where(), manifest, run)
	namespace := job.GetNamespace()
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	key := clusters.WatchKey{Cluster: cluster, GVK: jobGVK, LabelSelector: health.JobOwnerLabel + "=" + health.LabelHash(owner)}
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
	checkLabel := health.LabelHash(c.Where())
	var current *unstructured.Unstructured
	var earlier []*unstructured.Unstructured
	for i := range jobs {
		j := &jobs[i]
		if j.GetLabels()[health.JobCheckLabel] != checkLabel {
			continue
		}
		if j.GetName() == name && j.GetNamespace() == namespace {
			current = j
		} else {
			earlier = append(earlier, j)
		}
	}
	if current == nil || len(earlier) > 0 {
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
		for _, j := range earlier {
			if err := cl.Delete(ctx, j, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
				return "", fmt.Errorf("%s: deleting the Job %s/%s of an earlier run: %w", where, j.GetNamespace(), j.GetName(), err)
			}
		}
		if current == nil {
			job.SetName(name)
			job.SetGenerateName("")
			job.SetNamespace(namespace)
			job.SetResourceVersion("")
			labels := job.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[health.JobOwnerLabel] = health.LabelHash(owner)
			labels[health.JobCheckLabel] = checkLabel
			job.SetLabels(labels)
			unstructured.RemoveNestedField(job.Object, "status")
			if err := cl.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
				return "", fmt.Errorf("%s: creating the Job %s/%s in cluster %s: %w", where, namespace, name, cluster, err)
			}
			r.event(s, corev1.EventTypeNormal, "HealthCheckJobCreated", fmt.Sprintf("%s: created the Job %s/%s in cluster %s", where, namespace, name, cluster))
			return fmt.Sprintf("%s: Job %s/%s has not completed yet", where, namespace, name), nil
		}
	}
	if _, healthy, msg := health.JobOutcome(current); !healthy {
		return where + ": " + msg, nil
	}
	return "", nil
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
