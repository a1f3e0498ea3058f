package clusterhealth_test

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/internal/testenv"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// flapping.consecutiveEvaluations holds a non-Healthy status back in
// pendingResourceStatuses until it has been seen that many evaluations in a
// row (the HealthCheck is evaluated again while something is held back); a
// return to Healthy is reported at once.
func TestFlappingHoldsBackStatuses(t *testing.T) {
	create(t, workloadClient(t), namespace("hc-flap"), stateConfigMap("hc-flap", "a", "good"))
	hc := healthCheck("flap", "hc-flap", stateScript)
	hc.Spec.Flapping = &libv1beta1.FlappingPolicy{ConsecutiveEvaluations: 2}
	create(t, mgmt, hc)
	create(t, mgmt, clusterHealthCheck("flap", []libv1beta1.LivenessCheck{healthCheckLiveness("resources", "flap")}))
	waitReport(t, "flap", statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy"}))

	setState(t, "hc-flap", "a", "bad")
	waitReport(t, "flap", func(r *libv1beta1.HealthCheckReport) error {
		p := r.Status.PendingResourceStatuses
		if len(p) != 1 || p[0].HealthStatus != libv1beta1.HealthStatusDegraded || p[0].ConsecutiveCount != 1 {
			return fmt.Errorf("pending %+v", p)
		}
		return statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy"})(r)
	})
	waitReport(t, "flap", func(r *libv1beta1.HealthCheckReport) error {
		if len(r.Status.PendingResourceStatuses) != 0 {
			return fmt.Errorf("pending %+v", r.Status.PendingResourceStatuses)
		}
		return statusesAre(map[string]libv1beta1.HealthStatus{"a": "Degraded"})(r)
	})

	setState(t, "hc-flap", "a", "good")
	waitReport(t, "flap", statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy"}))

	// A cluster the ClusterHealthCheck no longer selects loses its report.
	chc := &libv1beta1.ClusterHealthCheck{}
	updateClusterHealthCheck(t, "flap", func(c *libv1beta1.ClusterHealthCheck) {
		c.Spec.ClusterSelector.MatchLabels = map[string]string{"env": "elsewhere"}
	})
	waitNoReport(t, "flap")
	testenv.Eventually(t, "no matching cluster", func() error {
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: "flap"}, chc); err != nil {
			return err
		}
		if len(chc.Status.MatchingClusterRefs)+len(chc.Status.ClusterConditions) != 0 {
			return fmt.Errorf("status %+v", chc.Status)
		}
		return nil
	})
}
