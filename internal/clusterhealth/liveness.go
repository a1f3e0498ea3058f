package clusterhealth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Reasons of liveness conditions.
const (
	ReasonAddonsProvisioned    = "AddonsProvisioned"
	ReasonAddonsNotProvisioned = "AddonsNotProvisioned"
	ReasonResourcesHealthy     = "ResourcesHealthy"
	ReasonResourcesNotHealthy  = "ResourcesNotHealthy"
	ReasonReportMissing        = "HealthCheckReportMissing"
	ReasonEvaluationFailed     = "EvaluationFailed"
)

// livenessResult is one liveness check's outcome in one cluster. failing
// identifies what fails (a profile's feature, a resource with its status); the
// notified state is made of Status and failing, not of messages, so that a
// failure whose wording changes is not notified again.
type livenessResult struct {
	check   libv1beta1.LivenessCheck
	status  corev1.ConditionStatus
	reason  string
	message string
	failing []string
}

// addonsLiveness: True when every feature of every ClusterSummary of the
// cluster is Provisioned; otherwise False naming each profile's failing feature
// with its status and message.
func addonsLiveness(summaries []configv1beta1.ClusterSummary, lc libv1beta1.LivenessCheck) livenessResult {
	res := livenessResult{check: lc, status: corev1.ConditionTrue, reason: ReasonAddonsProvisioned}
	var lines []string
	for i := range summaries {
		s := &summaries[i]
		if !s.DeletionTimestamp.IsZero() {
			continue
		}
		profile := summaryProfile(s)
		if len(s.Status.FeatureSummaries) == 0 {
			res.failing = append(res.failing, profile)
			lines = append(lines, fmt.Sprintf("%s: not deployed yet", profile))
			continue
		}
		for _, f := range s.Status.FeatureSummaries {
			if f.Status == libv1beta1.FeatureStatusProvisioned {
				continue
			}
			res.failing = append(res.failing, profile+" "+string(f.FeatureID))
			line := fmt.Sprintf("%s feature %s is %s", profile, f.FeatureID, orUnknown(string(f.Status)))
			if f.FailureMessage != nil && *f.FailureMessage != "" {
				line += ": " + *f.FailureMessage
			}
			lines = append(lines, line)
		}
	}
	if len(res.failing) > 0 {
		sort.Strings(res.failing)
		sort.Strings(lines)
		res.status, res.reason = corev1.ConditionFalse, ReasonAddonsNotProvisioned
		res.message = strings.Join(lines, "\n")
	} else {
		res.message = fmt.Sprintf("all add-ons provisioned (%d profiles)", len(summaries))
	}
	return res
}

func orUnknown(s string) string {
	if s == "" {
		return "not reported"
	}
	return s
}

// summaryProfile names the profile of a summary: ClusterProfile/name or Profile namespace/name.
func summaryProfile(s *configv1beta1.ClusterSummary) string {
	if name := s.Labels[configv1beta1.ClusterProfileNameLabel]; name != "" {
		return configv1beta1.ClusterProfileKind + "/" + name
	}
	if name := s.Labels[configv1beta1.ProfileNameLabel]; name != "" {
		return configv1beta1.ProfileKind + "/" + s.Namespace + "/" + name
	}
	for _, o := range s.OwnerReferences {
		return o.Kind + "/" + o.Name
	}
	return "ClusterSummary/" + s.Name
}

// healthCheckLiveness: True when the HealthCheck's report for the cluster holds
// only Healthy resources.
func healthCheckLiveness(report *libv1beta1.HealthCheckReport, lc libv1beta1.LivenessCheck) livenessResult {
	res := livenessResult{check: lc}
	hcName := lc.LivenessSourceRef.Name
	switch {
	case report == nil:
		res.status, res.reason = corev1.ConditionUnknown, ReasonReportMissing
		res.message = fmt.Sprintf("HealthCheck %s has not reported on this cluster yet", hcName)
		res.failing = []string{"missing"}
		return res
	case report.Status.AgentFailureMessage != nil && len(report.Spec.ResourceStatuses) == 0:
		res.status, res.reason = corev1.ConditionFalse, ReasonEvaluationFailed
		res.message = fmt.Sprintf("HealthCheck %s cannot be evaluated: %s", hcName, *report.Status.AgentFailureMessage)
		res.failing = []string{"evaluation failed"}
		return res
	}
	var lines []string
	for _, s := range report.Spec.ResourceStatuses {
		if s.HealthStatus == libv1beta1.HealthStatusHealthy {
			continue
		}
		res.failing = append(res.failing, resourceKey(s.ObjectRef)+" "+string(s.HealthStatus))
		line := fmt.Sprintf("%s is %s", describeRef(s.ObjectRef), s.HealthStatus)
		if s.Message != "" {
			line += ": " + s.Message
		}
		lines = append(lines, line)
	}
	if len(res.failing) > 0 {
		res.status, res.reason = corev1.ConditionFalse, ReasonResourcesNotHealthy
		res.message = strings.Join(lines, "\n")
	} else {
		res.status, res.reason = corev1.ConditionTrue, ReasonResourcesHealthy
		res.message = fmt.Sprintf("HealthCheck %s: %d resources healthy", hcName, len(report.Spec.ResourceStatuses))
	}
	if report.Status.AgentFailureMessage != nil {
		res.message += "\n(last evaluation failed, showing the last good one: " + *report.Status.AgentFailureMessage + ")"
	}
	return res
}

// evaluateLiveness computes every liveness check of chc for one cluster.
func evaluateLiveness(ctx context.Context, c client.Reader, chc *libv1beta1.ClusterHealthCheck, cluster libv1beta1.ClusterID) ([]livenessResult, error) {
	cluster = cluster.Normal()
	var summaries []configv1beta1.ClusterSummary
	summariesRead := false
	out := make([]livenessResult, 0, len(chc.Spec.LivenessChecks))
	for _, lc := range chc.Spec.LivenessChecks {
		switch lc.Type {
		case libv1beta1.LivenessTypeAddons:
			if !summariesRead {
				list := &configv1beta1.ClusterSummaryList{}
				if err := c.List(ctx, list, client.InNamespace(cluster.Namespace), client.MatchingLabels{
					configv1beta1.ClusterNameLabel: cluster.Name,
				}); err != nil {
					return nil, fmt.Errorf("listing the ClusterSummaries of cluster %s: %w", cluster, err)
				}
				for _, s := range list.Items {
					if s.Cluster() == cluster {
						summaries = append(summaries, s)
					}
				}
				summariesRead = true
			}
			out = append(out, addonsLiveness(summaries, lc))
		case libv1beta1.LivenessTypeHealthCheck:
			report := &libv1beta1.HealthCheckReport{}
			key := types.NamespacedName{Namespace: cluster.Namespace, Name: HealthCheckReportName(lc.LivenessSourceRef.Name, cluster)}
			if err := c.Get(ctx, key, report); err != nil {
				if !apierrors.IsNotFound(err) {
					return nil, fmt.Errorf("reading HealthCheckReport %s: %w", key, err)
				}
				report = nil
			}
			out = append(out, healthCheckLiveness(report, lc))
		}
	}
	return out, nil
}

// stateHash is the hash of the notified state: each check's status and what fails.
func stateHash(results []livenessResult) []byte {
	h := sha256.New()
	for _, r := range results {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", r.check.Name, r.check.Type, r.status, strings.Join(r.failing, "\x01"))
	}
	return h.Sum(nil)
}

// passing reports whether every check is True.
func passing(results []livenessResult) bool {
	for _, r := range results {
		if r.status != corev1.ConditionTrue {
			return false
		}
	}
	return true
}

// undecided reports whether some check cannot tell yet (Unknown).
func undecided(results []livenessResult) bool {
	for _, r := range results {
		if r.status == corev1.ConditionUnknown {
			return true
		}
	}
	return false
}
