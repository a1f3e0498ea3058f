package clusterhealth_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// evaluateIndependently false calls evaluate() once with every selected
// resource, so the script can compare them: here two ConfigMaps where one is
// expected make both Degraded.
func TestEvaluateAllResourcesTogether(t *testing.T) {
	wl := workloadClient(t)
	create(t, wl, namespace("hc-together"), stateConfigMap("hc-together", "a", "good"))
	hc := healthCheck("together", "hc-together", `function evaluate()
  local statuses = {}
  for _, r in ipairs(resources) do
    if #resources > 1 then
      table.insert(statuses, {resource = r, healthStatus = "Degraded", message = #resources .. " singletons"})
    else
      table.insert(statuses, {resource = r, healthStatus = "Healthy"})
    end
  end
  return {resources = statuses}
end`)
	hc.Spec.EvaluateIndependently = false
	create(t, mgmt, hc)
	create(t, mgmt, clusterHealthCheck("together", []libv1beta1.LivenessCheck{healthCheckLiveness("singleton", "together")}))
	waitReport(t, "together", statusesAre(map[string]libv1beta1.HealthStatus{"a": "Healthy"}))

	create(t, wl, stateConfigMap("hc-together", "b", "good"))
	waitReport(t, "together", statusesAre(map[string]libv1beta1.HealthStatus{"a": "Degraded", "b": "Degraded"}))
	waitCondition(t, "together", "singleton", "False", "2 singletons")

	// A deleted HealthCheck's reports go with it.
	if err := mgmt.Delete(context.Background(), &libv1beta1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Name: "together"}}); err != nil {
		t.Fatal(err)
	}
	waitNoReport(t, "together")
}
