package e2e_test

import (
	"testing"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// After the tutorial ran (this file sorts after tutorial_test.go), the manager
// has recorded event-to-deploy latencies — the credentials and address copied
// into the management cluster are event-driven deploys — and deploy durations.
func TestTutorialFedTheLatencyMetrics(t *testing.T) {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				counts[f.GetName()] += h.GetSampleCount()
			}
		}
	}
	for _, name := range []string{"tugboat_event_to_deploy_seconds", "tugboat_deploy_duration_seconds"} {
		if counts[name] == 0 {
			t.Errorf("%s has no samples after the tutorial (histograms: %v)", name, counts)
		}
	}
}
