package metrics_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tugboat-dev/tugboat/internal/metrics"
)

func newMetrics(t *testing.T) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestRegistersEveryMetric(t *testing.T) {
	m, reg := newMetrics(t)
	// Vectors appear once they have a series.
	m.ObserveDeploy("Resources", time.Second, nil)
	m.ObserveEventToDeploy(time.Second)
	m.SetClusterState("ns", "c", metrics.StateHealthy)
	m.AddConflicts("Helm", 1)
	n, err := testutil.GatherAndCount(reg)
	if err != nil {
		t.Fatal(err)
	}
	// 1 deploy histogram + 1 latency histogram + 2 state series + 1 conflict counter.
	if n != 5 {
		t.Errorf("gathered %d series, want 5", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}

func TestDeployDuration(t *testing.T) {
	m, reg := newMetrics(t)
	m.ObserveDeploy("Resources", 2*time.Second, nil)
	m.ObserveDeploy("Resources", 500*time.Millisecond, nil)
	m.ObserveDeploy("Helm", time.Second, errors.New("boom"))
	if got := testutil.CollectAndCount(m.DeployDuration); got != 2 {
		t.Errorf("series = %d, want 2 (Resources/success, Helm/failure)", got)
	}
	want := `
# HELP tugboat_deploy_duration_seconds Time taken to deploy one feature of a ClusterSummary to a cluster.
# TYPE tugboat_deploy_duration_seconds histogram
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="0.05"} 0
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="0.1"} 0
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="0.25"} 0
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="0.5"} 0
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="1"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="2.5"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="5"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="10"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="30"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="60"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="120"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="300"} 1
tugboat_deploy_duration_seconds_bucket{feature="Helm",result="failure",le="+Inf"} 1
tugboat_deploy_duration_seconds_sum{feature="Helm",result="failure"} 1
tugboat_deploy_duration_seconds_count{feature="Helm",result="failure"} 1
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="0.05"} 0
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="0.1"} 0
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="0.25"} 0
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="0.5"} 1
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="1"} 1
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="2.5"} 2
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="5"} 2
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="10"} 2
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="30"} 2
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="60"} 2
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="120"} 2
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="300"} 2
tugboat_deploy_duration_seconds_bucket{feature="Resources",result="success",le="+Inf"} 2
tugboat_deploy_duration_seconds_sum{feature="Resources",result="success"} 2.5
tugboat_deploy_duration_seconds_count{feature="Resources",result="success"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), metrics.DeployDurationName); err != nil {
		t.Error(err)
	}
}

func TestEventToDeploy(t *testing.T) {
	m, reg := newMetrics(t)
	m.ObserveEventToDeploy(3 * time.Second)
	m.ObserveEventToDeploy(7 * time.Second)
	got, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range got {
		if mf.GetName() != metrics.EventToDeployName {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != 2 || h.GetSampleSum() != 10 {
			t.Errorf("count=%d sum=%v, want 2 and 10", h.GetSampleCount(), h.GetSampleSum())
		}
		return
	}
	t.Fatalf("%s not gathered", metrics.EventToDeployName)
}

func TestClusterState(t *testing.T) {
	m, _ := newMetrics(t)
	state := func(ns, name, s string) float64 {
		return testutil.ToFloat64(m.ClusterConnection.WithLabelValues(ns, name, s))
	}
	m.SetClusterState("prod", "a", metrics.StateHealthy)
	m.SetClusterState("prod", "b", metrics.StateDown)
	if state("prod", "a", metrics.StateHealthy) != 1 || state("prod", "a", metrics.StateDown) != 0 {
		t.Error("prod/a should be Healthy only")
	}
	if state("prod", "b", metrics.StateDown) != 1 || state("prod", "b", metrics.StateHealthy) != 0 {
		t.Error("prod/b should be Down only")
	}

	m.SetClusterState("prod", "a", metrics.StateDown)
	if state("prod", "a", metrics.StateHealthy) != 0 || state("prod", "a", metrics.StateDown) != 1 {
		t.Error("prod/a should have moved to Down")
	}

	m.ForgetCluster("prod", "a")
	if got := testutil.CollectAndCount(m.ClusterConnection); got != 2 {
		t.Errorf("after forgetting prod/a: %d series, want prod/b's 2", got)
	}
	m.SetClusterState("prod", "b", "") // unknown state: no series at all
	if got := testutil.CollectAndCount(m.ClusterConnection); got != 0 {
		t.Errorf("after an unknown state: %d series, want 0", got)
	}
}

func TestConflicts(t *testing.T) {
	m, _ := newMetrics(t)
	m.AddConflicts("Resources", 2)
	m.AddConflicts("Resources", 1)
	m.AddConflicts("Resources", 0)
	m.AddConflicts("Helm", 1)
	if got := testutil.ToFloat64(m.Conflicts.WithLabelValues("Resources")); got != 3 {
		t.Errorf("Resources conflicts = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.Conflicts.WithLabelValues("Helm")); got != 1 {
		t.Errorf("Helm conflicts = %v, want 1", got)
	}
}

// A second manager in the same process shares the registered collectors.
func TestNewTwiceSharesCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := metrics.New(reg)
	if err != nil {
		t.Fatalf("second New: %v", err)
	}
	a.AddConflicts("Resources", 1)
	b.AddConflicts("Resources", 1)
	if got := testutil.ToFloat64(a.Conflicts.WithLabelValues("Resources")); got != 2 {
		t.Errorf("shared counter = %v, want 2", got)
	}
}

// A clashing collector under one of Tugboat's names is an error.
func TestNewRejectsClash(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: metrics.ConflictsName, Help: "not ours"}))
	if _, err := metrics.New(reg); err == nil {
		t.Fatal("New succeeded despite a clashing collector")
	}
}

func TestNilIsNoop(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveDeploy("Resources", time.Second, nil)
	m.ObserveEventToDeploy(time.Second)
	m.SetClusterState("a", "b", metrics.StateHealthy)
	m.ForgetCluster("a", "b")
	m.AddConflicts("Helm", 1)
}
