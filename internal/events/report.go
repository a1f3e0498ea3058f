package events

import (
	"bytes"
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// reportSpec is the EventReport spec for the objects an EventSource matches in a cluster.
func reportSpec(source *libv1beta1.EventSource, cluster libv1beta1.ClusterID, matches []unstructured.Unstructured) (libv1beta1.EventReportSpec, error) {
	spec := libv1beta1.EventReportSpec{
		ClusterNamespace: cluster.Namespace,
		ClusterName:      cluster.Name,
		ClusterType:      cluster.Normal().Type,
		EventSourceName:  source.Name,
	}
	var docs bytes.Buffer
	for i := range matches {
		spec.MatchingResources = append(spec.MatchingResources, objectRef(&matches[i]))
		if !source.Spec.CollectResources {
			continue
		}
		b, err := yaml.Marshal(resourceMap(&matches[i]))
		if err != nil {
			return spec, fmt.Errorf("encoding %s %s: %w", matches[i].GetKind(), objectKey(&matches[i]), err)
		}
		if docs.Len() > 0 {
			docs.WriteString("---\n")
		}
		docs.Write(b)
	}
	if docs.Len() > 0 {
		spec.Resources = docs.Bytes()
	}
	return spec, nil
}

// writeReport keeps the EventReport of (source, cluster) current, writing only when it changed.
func (r *TriggerReconciler) writeReport(ctx context.Context, source *libv1beta1.EventSource, cluster libv1beta1.ClusterID, matches []unstructured.Unstructured) error {
	spec, err := reportSpec(source, cluster, matches)
	if err != nil {
		return err
	}
	key := types.NamespacedName{Namespace: cluster.Namespace, Name: libv1beta1.EventReportName(source.Name, cluster.Name)}
	labels := map[string]string{
		libv1beta1.EventTriggerEventSourceNameLabel: labelValue(source.Name),
		libv1beta1.EventTriggerClusterNameLabel:     labelValue(cluster.Name),
		libv1beta1.EventTriggerClusterTypeLabel:     string(cluster.Normal().Type),
	}
	report := &libv1beta1.EventReport{}
	err = r.Client.Get(ctx, key, report)
	switch {
	case apierrors.IsNotFound(err):
		report = &libv1beta1.EventReport{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: labels},
			Spec:       spec,
		}
		if err := r.Client.Create(ctx, report); err != nil {
			return fmt.Errorf("creating EventReport %s: %w", key, err)
		}
	case err != nil:
		return fmt.Errorf("reading EventReport %s: %w", key, err)
	case !equality.Semantic.DeepEqual(report.Spec, spec):
		report.Spec = spec
		if err := r.Client.Update(ctx, report); err != nil {
			return fmt.Errorf("updating EventReport %s: %w", key, err)
		}
	}
	if report.Status.Phase == nil || *report.Status.Phase != libv1beta1.ReportPhaseProcessed || report.Status.FailureMessage != nil {
		phase := libv1beta1.ReportPhaseProcessed
		report.Status = libv1beta1.EventReportStatus{Phase: &phase}
		if err := r.Client.Status().Update(ctx, report); err != nil {
			return fmt.Errorf("updating status of EventReport %s: %w", key, err)
		}
	}
	return nil
}
