package support_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/support"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client // direct client of the management cluster
	// levels is the manager's log level table; logs is everything it logged
	// (JSON lines), to check which V() levels came through.
	levels *support.LogLevels
	logs   = &testenv.LockedBuffer{}
	// archiveDir is the manager's --techsupport-dir.
	archiveDir string
)

// fleetNamespace is where the workload cluster is registered.
const fleetNamespace = "fleet"

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "workload"}, InstallCRDs: true}, &env, setup))
}

func setup(ctx context.Context, env *testenv.Env) error {
	// The manager's logger as cmd/manager builds it: every level through zap,
	// filtered per component by a LevelSink, startup level V(0). Its JSON lines
	// go to logs (and to stderr with TUGBOAT_TEST_VERBOSE).
	var out io.Writer = logs
	if os.Getenv("TUGBOAT_TEST_VERBOSE") != "" {
		out = io.MultiWriter(logs, os.Stderr)
	}
	levels = support.NewLogLevels()
	base := zap.New(zap.WriteTo(out), zap.Level(zapcore.Level(-support.MostVerbose)))
	ctrl.SetLogger(support.NewLevelLogger(base, 0, levels))

	opts := managertest.Options(env)
	opts.LogLevels = levels
	archiveDir = filepath.Join(env.Dir(), "techsupport")
	opts.TechsupportDir = archiveDir
	var err error
	if _, mgmt, err = managertest.Start(ctx, env, opts); err != nil {
		return err
	}
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: fleetNamespace, Name: "workload",
		Kubeconfig: env.Cluster("workload").Kubeconfig, Labels: map[string]string{"support": "collect"}}); err != nil {
		return err
	}
	return nil
}

// clusterClient is a direct client of one of the test clusters.
func clusterClient(t *testing.T, name string) client.Client {
	t.Helper()
	return testenv.ClusterClient(t, env, name)
}

// create creates objects, failing the test on error; they are deleted at the end.
func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), o) })
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}
