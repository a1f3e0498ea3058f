package profiles

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

// maxUpdateBudget turns maxUpdate (a number or a percentage of the matching
// clusters, default 100%) into a count, at least 1.
func maxUpdateBudget(v *intstr.IntOrString, total int) (int, error) {
	if v == nil {
		return max(total, 1), nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, total, true)
	if err != nil {
		return 0, fmt.Errorf("maxUpdate %q: %w", v.String(), err)
	}
	return max(n, 1), nil
}

// provisioned reports whether every feature of a summary is Provisioned for its current spec.
func provisioned(s *configv1beta1.ClusterSummary) bool {
	if s.Status.ObservedGeneration != s.Generation {
		return false
	}
	for _, fs := range s.Status.FeatureSummaries {
		if fs.Status != libv1beta1.FeatureStatusProvisioned {
			return false
		}
	}
	return true
}

// hashSpec identifies a profile spec in updatingClusters/updatedClusters.
func hashSpec(spec *configv1beta1.Spec) []byte {
	raw, _ := json.Marshal(spec)
	sum := sha256.Sum256(raw)
	return sum[:]
}

// failedClusters lists the matched clusters where a feature of the profile failed.
func failedClusters(summaries []configv1beta1.ClusterSummary, wanted map[string]bool) []configv1beta1.FailedCluster {
	var out []configv1beta1.FailedCluster
	for i := range summaries {
		s := &summaries[i]
		if !wanted[s.Namespace+"/"+s.Name] {
			continue
		}
		var msgs []string
		for _, fs := range s.Status.FeatureSummaries {
			if fs.Status == libv1beta1.FeatureStatusFailed && fs.FailureMessage != nil {
				msgs = append(msgs, string(fs.FeatureID)+": "+*fs.FailureMessage)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		out = append(out, configv1beta1.FailedCluster{
			ClusterRef:     s.Cluster().Ref(),
			FailureMessage: strings.Join(msgs, "; "),
		})
	}
	return out
}

// maxReadyMessage bounds the Ready condition's message (failure messages can be long).
const maxReadyMessage = 4096

// markProgress sets the Ready condition of a profile from its clusters: True
// when every matching cluster is provisioned with the current spec, False
// naming the failed clusters and why, Unknown (Reconciling) while some are
// still being provisioned.
func markProgress(profile conditions.Holder, matching, provisioned int, failed []configv1beta1.FailedCluster) {
	switch {
	case len(failed) > 0:
		parts := make([]string, 0, len(failed))
		for _, f := range failed {
			parts = append(parts, fmt.Sprintf("%s/%s: %s", f.ClusterRef.Namespace, f.ClusterRef.Name, f.FailureMessage))
		}
		msg := fmt.Sprintf("%d of %d clusters failed: %s", len(failed), matching, strings.Join(parts, "; "))
		if len(msg) > maxReadyMessage {
			msg = msg[:maxReadyMessage-3] + "..."
		}
		conditions.MarkFailed(profile, conditions.Failed, "%s", msg)
	case provisioned < matching:
		conditions.MarkReconciling(profile, conditions.Progressing, "%d of %d clusters provisioned", provisioned, matching)
	default:
		conditions.MarkReady(profile, "%d of %d clusters provisioned", provisioned, matching)
	}
}
