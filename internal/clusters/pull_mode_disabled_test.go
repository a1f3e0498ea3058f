package clusters_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// A SveltosCluster in pull mode on a manager started without the pull-mode
// hub (this package's) is Down at once, saying that pull mode is off; and a
// client outside the manager (the command line) is told that only the
// manager reaches such a cluster.
func TestPullModeDisabled(t *testing.T) {
	ctx := context.Background()
	if err := clusters.EnsureNamespace(ctx, mgmt, "pull-off"); err != nil {
		t.Fatal(err)
	}
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "pull-off", Name: "edge"}, Spec: libv1beta1.SveltosClusterSpec{PullMode: true}}
	if err := mgmt.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), sc) })
	waitFor(t, "pull-off", "edge", "down, saying pull mode is off", func(sc *libv1beta1.SveltosCluster) error {
		msg := ""
		if sc.Status.FailureMessage != nil {
			msg = *sc.Status.FailureMessage
		}
		if sc.Status.ConnectionStatus != libv1beta1.ConnectionDown || !strings.Contains(msg, "SveltosCluster pull-off/edge is in pull mode, but pull mode is not enabled on this manager (--pullmode-hub-address)") {
			return fmt.Errorf("connection %q, failure %q", sc.Status.ConnectionStatus, msg)
		}
		return nil
	})
	_, err := clusters.RESTConfigFor(ctx, mgmt, libv1beta1.SveltosClusterID("pull-off", "edge"))
	if !clusters.IsConfigError(err) || !strings.Contains(err.Error(), "is in pull mode: only the manager reaches it, through its agent") {
		t.Fatalf("RESTConfigFor a pull-mode cluster: got %v", err)
	}
}
