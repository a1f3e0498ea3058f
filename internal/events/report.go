package events

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
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
		b, err := yaml.Marshal(reportedResource(&matches[i]))
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

// DataHashesAnnotation, on a Secret recorded in an EventReport, holds the
// SHA-256 of each of its data values (JSON: key → hex) in place of the data.
const DataHashesAnnotation = "tugboat.dev/data-sha256"

// reportedResource is what an EventReport records of a matching object: the
// object itself, except a Secret's values. EventReports are plain custom
// resources that many may read; a Secret's data and stringData are replaced by
// the hash of each value (and the last-applied-configuration annotation, which
// holds them too, is dropped). Instantiation does not read EventReports: it
// renders from the watched objects.
func reportedResource(obj *unstructured.Unstructured) map[string]any {
	m := resourceMap(obj)
	if obj.GroupVersionKind().Group != "" || obj.GetKind() != "Secret" {
		return m
	}
	hashes := map[string]string{}
	for _, field := range []string{"data", "stringData"} {
		values, _ := m[field].(map[string]any)
		for k, v := range values {
			sum := sha256.Sum256([]byte(fmt.Sprint(v)))
			hashes[k] = hex.EncodeToString(sum[:])
		}
		delete(m, field)
	}
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		m["metadata"] = md
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
	}
	delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
	if len(hashes) > 0 {
		data, _ := json.Marshal(hashes)
		ann[DataHashesAnnotation] = string(data)
	}
	if len(ann) > 0 {
		md["annotations"] = ann
	} else {
		delete(md, "annotations")
	}
	return m
}

// writeReport keeps the EventReport of (source, cluster) current, writing only
// when it changed; each write stamps the report with the time of the event
// (libv1beta1.EventObservedAnnotation).
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
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: labels, Annotations: stamped(nil)},
			Spec:       spec,
		}
		if err := r.Client.Create(ctx, report); err != nil {
			return fmt.Errorf("creating EventReport %s: %w", key, err)
		}
	case err != nil:
		return fmt.Errorf("reading EventReport %s: %w", key, err)
	case !equality.Semantic.DeepEqual(report.Spec, spec):
		// What the EventSource matches changed: an event. Its time goes in
		// the same write (EventObservedAnnotation, the dashboard's "last
		// event"); an unchanged report costs no write.
		report.Spec = spec
		report.Annotations = stamped(report.Annotations)
		if err := r.Client.Update(ctx, report); err != nil {
			return fmt.Errorf("updating EventReport %s: %w", key, err)
		}
	}
	if report.Status.Phase == nil || *report.Status.Phase != libv1beta1.ReportPhaseProcessed || report.Status.FailureMessage != nil {
		before := report.DeepCopy()
		phase := libv1beta1.ReportPhaseProcessed
		report.Status = libv1beta1.EventReportStatus{Phase: &phase}
		if err := conditions.PatchStatus(ctx, r.Client, before, report); err != nil {
			return fmt.Errorf("updating status of EventReport %s: %w", key, err)
		}
	}
	return nil
}
