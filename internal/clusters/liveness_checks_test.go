package clusters_test

import (
	"fmt"
	"strings"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// A ready cluster with livenessChecks is Healthy while they pass; when the
// resources they select stop satisfying one, its connection is reported Down
// with the check named (sets fail over), and Healthy again once it passes.
func TestLivenessChecksDecideHealthy(t *testing.T) {
	const ns, name = "liveness", "services"
	setGate(t, "liveness", true)
	registerWithSpec(t, ns, name, "services", libv1beta1.SveltosClusterSpec{LivenessChecks: []libv1beta1.ClusterCheck{gateCheck("ingress-alive", "liveness")}})
	waitFor(t, ns, name, "ready", isReady)

	setGate(t, "liveness", false)
	waitFor(t, ns, name, "Down by its liveness check", func(sc *libv1beta1.SveltosCluster) error {
		want := "spec.livenessChecks[0] (ingress-alive): no ConfigMap labelled gate=liveness"
		if sc.Status.ConnectionStatus != libv1beta1.ConnectionDown || deref(sc.Status.FailureMessage) != want {
			return fmt.Errorf("connection=%q failureMessage %q", sc.Status.ConnectionStatus, deref(sc.Status.FailureMessage))
		}
		return nil
	})
	waitForEvent(t, ns, name, "ClusterDown", "ingress-alive")

	setGate(t, "liveness", true)
	t.Cleanup(func() { setGate(t, "liveness", false) })
	waitFor(t, ns, name, "Healthy again", isReady)
}

// A liveness check whose selector has a CEL rule with a type error reports the
// cluster Down, the status and a Warning Event naming the check and the rule.
func TestLivenessCheckWithBadSelector(t *testing.T) {
	const ns, name = "liveness-invalid", "services"
	bad := gateCheck("bad-rule", "never")
	bad.ResourceSelectors[0].EvaluateCEL = []libv1beta1.CELRule{{Name: "typed", Rule: `resource.startsWith("x")`}}
	// Ready first (no check), then the bad liveness check is added.
	registerWithSpec(t, ns, name, "services", libv1beta1.SveltosClusterSpec{})
	waitFor(t, ns, name, "ready", isReady)
	updateCluster(t, ns, name, func(sc *libv1beta1.SveltosCluster) { sc.Spec.LivenessChecks = []libv1beta1.ClusterCheck{bad} })
	want := "spec.livenessChecks[0] (bad-rule): resourceSelectors[0]"
	waitFor(t, ns, name, "reporting the bad rule", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Status.ConnectionStatus != libv1beta1.ConnectionDown || !strings.Contains(deref(sc.Status.FailureMessage), want) {
			return fmt.Errorf("connection=%q failureMessage %q", sc.Status.ConnectionStatus, deref(sc.Status.FailureMessage))
		}
		return nil
	})
	waitForEvent(t, ns, name, "ClusterCheckInvalid", want)
}
