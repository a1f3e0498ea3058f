package clusters_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// gateCheck passes once the cluster holds a ConfigMap labelled gate=<gate> in
// namespace cluster-gates.
func gateCheck(name, gate string) libv1beta1.ClusterCheck {
	return libv1beta1.ClusterCheck{
		Name: name,
		ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: "cluster-gates",
			LabelFilters: []libv1beta1.LabelFilter{{Key: "gate", Operation: libv1beta1.OperationEqual, Value: gate}}}},
		Condition: `function evaluate()
  local hs = {pass = false, message = "no ConfigMap labelled gate=` + gate + `"}
  for _, r in ipairs(resources) do
    hs.pass = true
    hs.message = "found " .. r.metadata.name
  end
  return hs
end`,
	}
}

// setGate creates (or, with present false, deletes) the ConfigMap a gateCheck looks for in the services cluster.
func setGate(t *testing.T, gate string, present bool) {
	t.Helper()
	ctx := context.Background()
	c := clientFor(t, "services")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cluster-gates"}}
	_ = c.Create(ctx, ns)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "cluster-gates", Name: "gate-" + gate, Labels: map[string]string{"gate": gate}}}
	var err error
	if present {
		err = c.Create(ctx, cm)
	} else {
		err = c.Delete(ctx, cm)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// A cluster with readinessChecks stays not ready, the failing check named in
// its status, until the resources the check selects in the cluster let it
// pass; then it becomes ready.
func TestReadinessChecksGateReady(t *testing.T) {
	const ns, name = "readiness", "services"
	registerWithSpec(t, ns, name, "services", libv1beta1.SveltosClusterSpec{ReadinessChecks: []libv1beta1.ClusterCheck{gateCheck("workers-joined", "readiness")}})
	waitFor(t, ns, name, "held back by its readiness check", func(sc *libv1beta1.SveltosCluster) error {
		want := "spec.readinessChecks[0] (workers-joined): no ConfigMap labelled gate=readiness"
		if sc.Status.Ready || sc.Status.ConnectionStatus != libv1beta1.ConnectionHealthy || deref(sc.Status.FailureMessage) != want {
			return fmt.Errorf("ready=%v connection=%q failureMessage %q", sc.Status.Ready, sc.Status.ConnectionStatus, deref(sc.Status.FailureMessage))
		}
		return nil
	})
	setGate(t, "readiness", true)
	t.Cleanup(func() { setGate(t, "readiness", false) })
	waitFor(t, ns, name, "ready", isReady)
}

// A readiness check whose condition does not compile keeps the cluster not
// ready; the status and a Warning Event name the check and the field.
func TestReadinessCheckThatDoesNotCompile(t *testing.T) {
	const ns, name = "readiness-invalid", "services"
	broken := gateCheck("broken", "never")
	broken.Condition = "function evaluate( return"
	registerWithSpec(t, ns, name, "services", libv1beta1.SveltosClusterSpec{ReadinessChecks: []libv1beta1.ClusterCheck{broken}})
	want := "spec.readinessChecks[0] (broken): condition: parsing Lua"
	waitFor(t, ns, name, "reporting the broken check", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Status.Ready || !strings.Contains(deref(sc.Status.FailureMessage), want) {
			return fmt.Errorf("ready=%v failureMessage %q", sc.Status.Ready, deref(sc.Status.FailureMessage))
		}
		return nil
	})
	waitForEvent(t, ns, name, "ClusterCheckInvalid", want)
}
