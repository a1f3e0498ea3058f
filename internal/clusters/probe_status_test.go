package clusters

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/utils/ptr"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// What a probe's outcome makes of a cluster's status: ready on success, Down
// after the threshold of failures in a row (or at once for a broken
// registration), its last state below it.
func TestUnitRecordProbe(t *testing.T) {
	healthy := libv1beta1.SveltosClusterStatus{Ready: true, ConnectionStatus: libv1beta1.ConnectionHealthy, Version: "v1.35.0"}
	down := libv1beta1.SveltosClusterStatus{ConnectionStatus: libv1beta1.ConnectionDown, ConnectionFailures: 7, FailureMessage: ptr.To("refused")}
	unreachable := errors.New("reading /version: connection refused")
	broken := configErrorf("kubeconfig Secret %s not found", "ns/x")
	withFailures := func(st libv1beta1.SveltosClusterStatus, n int) libv1beta1.SveltosClusterStatus {
		st.ConnectionFailures = n
		return st
	}
	for _, tc := range []struct {
		name       string
		threshold  int
		status     libv1beta1.SveltosClusterStatus
		err        error
		ready      bool
		connection libv1beta1.ConnectionStatus
		failures   int
	}{
		{name: "first success", err: nil, ready: true, connection: libv1beta1.ConnectionHealthy},
		{name: "recovered", status: down, ready: true, connection: libv1beta1.ConnectionHealthy},
		{name: "first failure keeps the last state", status: healthy, err: unreachable,
			ready: true, connection: libv1beta1.ConnectionHealthy, failures: 1},
		{name: "below the default threshold", status: withFailures(healthy, 1), err: unreachable,
			ready: true, connection: libv1beta1.ConnectionHealthy, failures: 2},
		{name: "at the default threshold", status: withFailures(healthy, 2), err: unreachable,
			connection: libv1beta1.ConnectionDown, failures: 3},
		{name: "at a threshold of one", threshold: 1, status: healthy, err: unreachable,
			connection: libv1beta1.ConnectionDown, failures: 1},
		{name: "below a threshold of five", threshold: 5, status: withFailures(healthy, 3), err: unreachable,
			ready: true, connection: libv1beta1.ConnectionHealthy, failures: 4},
		{name: "broken registration at once", status: healthy, err: broken,
			connection: libv1beta1.ConnectionDown, failures: 1},
		{name: "never probed and failing", err: unreachable, failures: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &libv1beta1.SveltosCluster{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c"},
				Spec:       libv1beta1.SveltosClusterSpec{ConsecutiveFailureThreshold: tc.threshold},
				Status:     tc.status,
			}
			recordProbe(sc, &k8sversion.Info{GitVersion: "v1.36.3+tugboat"}, tc.err)
			st := sc.Status
			if st.Ready != tc.ready || st.ConnectionStatus != tc.connection || st.ConnectionFailures != tc.failures {
				t.Fatalf("ready=%v connection=%q failures=%d, want %v %q %d",
					st.Ready, st.ConnectionStatus, st.ConnectionFailures, tc.ready, tc.connection, tc.failures)
			}
			switch {
			case tc.err == nil && (st.FailureMessage != nil || st.Version != "v1.36.3+tugboat" || sc.Labels[libv1beta1.K8sVersionLabel] != "v1.36.3"):
				t.Errorf("after a success: failureMessage %v, version %q, labels %v", st.FailureMessage, st.Version, sc.Labels)
			case tc.err != nil && (st.FailureMessage == nil || *st.FailureMessage != tc.err.Error()):
				t.Errorf("failureMessage %v, want %q", st.FailureMessage, tc.err.Error())
			}
		})
	}
}
