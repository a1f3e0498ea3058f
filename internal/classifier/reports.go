package classifier

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

// ReportName is the name of the ClassifierReport of a Classifier and a
// cluster, in the cluster's namespace: <clustertype>--<classifier>--<cluster>,
// the cluster type in lower case (sveltos or capi).
func ReportName(classifier string, cluster libv1beta1.ClusterID) string {
	return strings.ToLower(string(cluster.Normal().Type)) + "--" + classifier + "--" + cluster.Name
}

func reportLabels(classifier string, cluster libv1beta1.ClusterID) map[string]string {
	return map[string]string{
		libv1beta1.ClassifierNameLabel:              classifier,
		libv1beta1.ClassifierReportClusterNameLabel: cluster.Name,
		libv1beta1.ClassifierReportClusterTypeLabel: strings.ToLower(string(cluster.Normal().Type)),
	}
}

// writeReport creates or updates the ClassifierReport of the Classifier and
// the cluster; an unchanged report is not written.
func (r *classifierReconciler) writeReport(ctx context.Context, classifier string, cluster libv1beta1.ClusterID, match bool) error {
	spec := libv1beta1.ClassifierReportSpec{
		ClusterNamespace: cluster.Namespace,
		ClusterName:      cluster.Name,
		ClusterType:      cluster.Normal().Type,
		ClassifierName:   classifier,
		Match:            match,
	}
	key := client.ObjectKey{Namespace: cluster.Namespace, Name: ReportName(classifier, cluster)}
	report := &libv1beta1.ClassifierReport{}
	err := r.client.Get(ctx, key, report)
	switch {
	case apierrors.IsNotFound(err):
		report = &libv1beta1.ClassifierReport{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: reportLabels(classifier, cluster)},
			Spec:       spec,
		}
		if err := r.client.Create(ctx, report); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return nil // created by an earlier pass the cache has not seen yet
			}
			return fmt.Errorf("creating ClassifierReport %s: %w", key, err)
		}
	case err != nil:
		return fmt.Errorf("reading ClassifierReport %s: %w", key, err)
	case report.Spec != spec || !labelsInclude(report.Labels, reportLabels(classifier, cluster)):
		before := report.DeepCopy()
		report.Spec = spec
		if report.Labels == nil {
			report.Labels = map[string]string{}
		}
		maps.Copy(report.Labels, reportLabels(classifier, cluster))
		if err := r.client.Patch(ctx, report, client.MergeFrom(before)); err != nil {
			return fmt.Errorf("updating ClassifierReport %s: %w", key, err)
		}
	}
	if report.Status.Phase != nil && *report.Status.Phase == libv1beta1.ReportPhaseProcessed {
		return nil
	}
	// Evaluated by the manager itself: there is nothing left to deliver.
	before := report.DeepCopy()
	report.Status.Phase = ptr.To(libv1beta1.ReportPhaseProcessed)
	if err := conditions.PatchStatus(ctx, r.client, before, report); err != nil {
		return fmt.Errorf("writing the status of ClassifierReport %s: %w", key, err)
	}
	return nil
}

func labelsInclude(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// deleteReports deletes the Classifier's reports about clusters not in keep (nil: all).
func (r *classifierReconciler) deleteReports(ctx context.Context, classifier string, keep map[libv1beta1.ClusterID]bool) error {
	list := &libv1beta1.ClassifierReportList{}
	if err := r.client.List(ctx, list, client.MatchingLabels{libv1beta1.ClassifierNameLabel: classifier}); err != nil {
		return fmt.Errorf("listing the ClassifierReports of Classifier %s: %w", classifier, err)
	}
	var errs []error
	for i := range list.Items {
		rep := &list.Items[i]
		id := libv1beta1.ClusterID{Type: rep.Spec.ClusterType, Namespace: rep.Spec.ClusterNamespace, Name: rep.Spec.ClusterName}.Normal()
		if keep[id] {
			continue
		}
		if err := r.client.Delete(ctx, rep); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting ClassifierReport %s/%s: %w", rep.Namespace, rep.Name, err))
		}
	}
	return errors.Join(errs...)
}
