package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// maxConsecutiveFailures: a feature failing with an error a retry could fix
// (here a chart repository nobody listens on) is retried until it has failed
// that many times in a row, then left alone with a message saying so; a change
// of the profile tries again.
func TestMaxConsecutiveFailuresStopsRetrying(t *testing.T) {
	ctx := context.Background()
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "max-failures"}, Spec: configv1beta1.Spec{
		MaxConsecutiveFailures: ptr.To(int32(3)),
		HelmCharts: []libv1beta1.HelmChart{{RepositoryURL: "http://127.0.0.1:1/charts", RepositoryName: "nowhere",
			ChartName: "nowhere/app", ChartVersion: "1.0.0", ReleaseName: "app", ReleaseNamespace: "max-failures"}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"max-failures": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), p) })
	setLabels(t, "app-1", map[string]string{"max-failures": "yes"})
	t.Cleanup(func() { setLabels(t, "app-1", map[string]string{"max-failures": ""}) })

	failures := func() (int, string, error) {
		s := &configv1beta1.ClusterSummary{}
		key := types.NamespacedName{Namespace: "fleet", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "max-failures", "app-1")}
		if err := mgmt.Get(ctx, key, s); err != nil {
			return 0, "", err
		}
		fs := s.FeatureSummary(libv1beta1.FeatureHelm)
		if fs == nil || fs.FailureMessage == nil {
			return 0, "", fmt.Errorf("no Helm failure yet")
		}
		return int(fs.ConsecutiveFailures), *fs.FailureMessage, nil
	}
	testenv.Eventually(t, "stopped after 3 failures", func() error {
		n, msg, err := failures()
		if err != nil {
			return err
		}
		if n != 3 || !strings.Contains(msg, "stopped retrying after 3 consecutive failures") || !strings.Contains(msg, "127.0.0.1:1") {
			return fmt.Errorf("%d failures: %s", n, msg)
		}
		return nil
	})
	// Retries back off from milliseconds: had they gone on, a few seconds would
	// add failures. (This checks that no retry happens, not how fast anything is.)
	time.Sleep(3 * time.Second)
	if n, msg, err := failures(); err != nil || n != 3 {
		t.Fatalf("retried after the limit: %d failures (%s, %v)", n, msg, err)
	}
	updateClusterProfile(t, "max-failures", func(p *configv1beta1.ClusterProfile) { p.Spec.HelmCharts[0].ChartVersion = "1.0.1" })
	testenv.Eventually(t, "a change tries again", func() error {
		if n, msg, err := failures(); err != nil || n != 4 {
			return fmt.Errorf("%d failures (%s, %v)", n, msg, err)
		}
		return nil
	})
}
