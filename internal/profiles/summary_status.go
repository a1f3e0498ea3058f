package profiles

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

// writeReport stores a dry run's result for one feature in the summary's ClusterReport.
func (r *SummaryReconciler) writeReport(ctx context.Context, s *configv1beta1.ClusterSummary, prof configv1beta1.ProfileRef, feature libv1beta1.FeatureID, reports []configv1beta1.ResourceReport) error {
	report := &configv1beta1.ClusterReport{ObjectMeta: metav1.ObjectMeta{
		Namespace: s.Namespace, Name: configv1beta1.ClusterReportNameFor(prof.Kind, prof.Name, s.Cluster()),
	}}
	if _, err := controllerutil.CreateOrUpdate(ctx, r.Client, report, func() error {
		if report.Labels == nil {
			report.Labels = map[string]string{}
		}
		report.Labels[configv1beta1.ProfileLabel(prof.Kind)] = prof.Name
		report.Labels[configv1beta1.ClusterNameLabel] = s.Spec.ClusterName
		report.Labels[configv1beta1.ClusterTypeLabel] = string(s.Cluster().Type)
		report.Spec.ClusterNamespace = s.Spec.ClusterNamespace
		report.Spec.ClusterName = s.Spec.ClusterName
		report.Spec.ClusterType = s.Spec.ClusterType
		return nil
	}); err != nil {
		return fmt.Errorf("writing ClusterReport %s/%s: %w", report.Namespace, report.Name, err)
	}
	before := report.DeepCopy()
	switch feature {
	case libv1beta1.FeatureHelm:
		report.Status.HelmResourceReports = reports
	case libv1beta1.FeatureKustomize:
		report.Status.KustomizeResourceReports = reports
	default:
		report.Status.ResourceReports = reports
	}
	if err := conditions.PatchStatus(ctx, r.Client, before, report); err != nil {
		return fmt.Errorf("writing status of ClusterReport %s/%s: %w", report.Namespace, report.Name, err)
	}
	return nil
}

func (r *SummaryReconciler) event(obj client.Object, kind, reason, msg string) {
	if len(msg) > maxEventMessage {
		msg = msg[:maxEventMessage-3] + "..."
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, kind, reason, "Deploy", "%s", msg)
	}
}

func featureSummary(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) *configv1beta1.FeatureSummary {
	for i := range s.Status.FeatureSummaries {
		if s.Status.FeatureSummaries[i].FeatureID == id {
			return &s.Status.FeatureSummaries[i]
		}
	}
	s.Status.FeatureSummaries = append(s.Status.FeatureSummaries, configv1beta1.FeatureSummary{FeatureID: id, Status: libv1beta1.FeatureStatusProvisioning})
	return &s.Status.FeatureSummaries[len(s.Status.FeatureSummaries)-1]
}

func removeFeature(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) {
	out := s.Status.FeatureSummaries[:0]
	for _, fs := range s.Status.FeatureSummaries {
		if fs.FeatureID != id {
			out = append(out, fs)
		}
	}
	s.Status.FeatureSummaries = out
}

func deployedGVKs(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, d := range s.Status.DeployedGVKs {
		if d.FeatureID != id {
			continue
		}
		for _, g := range d.DeployedGroupVersionKind {
			// Kind.version.group, the form deployer.DeployedGVKs writes.
			if gvk, _ := schema.ParseKindArg(g); gvk != nil {
				out = append(out, *gvk)
			}
		}
	}
	return out
}

func setDeployedGVKs(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID, gvks []string) {
	for i := range s.Status.DeployedGVKs {
		if s.Status.DeployedGVKs[i].FeatureID == id {
			s.Status.DeployedGVKs[i].DeployedGroupVersionKind = gvks
			return
		}
	}
	s.Status.DeployedGVKs = append(s.Status.DeployedGVKs, configv1beta1.FeatureDeploymentInfo{FeatureID: id, DeployedGroupVersionKind: gvks})
}

func ptr[T any](v T) *T { return &v }
