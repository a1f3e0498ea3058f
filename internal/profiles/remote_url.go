package profiles

import (
	ctrl "sigs.k8s.io/controller-runtime"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/remote"
)

// refetchRemote brings the summary back when the shortest interval of its
// policyRefs' remoteURLs has passed, so that their content is fetched again
// (unless the result already asks to come back sooner).
func refetchRemote(s *configv1beta1.ClusterSummary, result ctrl.Result) ctrl.Result {
	for _, ref := range s.Spec.ClusterProfileSpec.PolicyRefs {
		if ref.RemoteURL == nil {
			continue
		}
		if every := remote.Interval(*ref.RemoteURL); result.RequeueAfter == 0 || every < result.RequeueAfter {
			result.RequeueAfter = every
		}
	}
	return result
}
