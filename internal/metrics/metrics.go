// Package metrics holds Tugboat's own Prometheus metrics, served next to
// controller-runtime's on the manager's metrics endpoint.
//
// The collectors are built by New and registered on the Registerer it is given
// (controller-runtime's metrics.Registry in the manager, a fresh registry in
// tests); nothing is kept in package variables. Every method is safe on a nil
// *Metrics, so components take an optional Metrics field and need no checks.
package metrics

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names.
const (
	DeployDurationName    = "tugboat_deploy_duration_seconds"
	EventToDeployName     = "tugboat_event_to_deploy_seconds"
	ClusterConnectionName = "tugboat_cluster_connection_state"
	ConflictsName         = "tugboat_conflicts_total"
	PromotionsName        = "tugboat_promotions_total"
)

// Deploy results (the result label of the deploy duration histogram).
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// Cluster connection states (the state label of the connection gauge).
const (
	StateHealthy = "Healthy"
	StateDown    = "Down"
)

// states lists every value of the state label, so that exactly one is 1.
var states = [...]string{StateHealthy, StateDown}

// Metrics are Tugboat's collectors.
type Metrics struct {
	// DeployDuration is how long deploying one feature (Resources, Helm,
	// Kustomize) of a ClusterSummary to a cluster took, by feature and result.
	DeployDuration *prometheus.HistogramVec
	// EventToDeploy is the time from an event (an EventReport reaching the
	// management cluster) to the deployment it triggered.
	EventToDeploy prometheus.Histogram
	// ClusterConnection is 1 for the current connection state of a
	// SveltosCluster and 0 for the other states.
	ClusterConnection *prometheus.GaugeVec
	// Conflicts counts resources not deployed because another profile owns them.
	Conflicts *prometheus.CounterVec
	// Promotions counts control-plane commits promoted from one environment to
	// the next, by namespace, environments and result (success, failure).
	Promotions *prometheus.CounterVec
}

// New builds the collectors and registers them. A collector that is already
// registered with the same description (a second manager in the same process)
// is shared rather than rejected.
func New(registry prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		DeployDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    DeployDurationName,
			Help:    "Time taken to deploy one feature of a ClusterSummary to a cluster.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"feature", "result"}),
		EventToDeploy: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    EventToDeployName,
			Help:    "Time from an event report reaching the management cluster to the deployment it triggered.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}),
		ClusterConnection: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: ClusterConnectionName,
			Help: "Connection state of a SveltosCluster: 1 for its current state, 0 for the others.",
		}, []string{"namespace", "name", "state"}),
		Conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ConflictsName,
			Help: "Resources not deployed because another profile already manages them.",
		}, []string{"feature"}),
		Promotions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: PromotionsName,
			Help: "Control-plane commits promoted from one environment to the next.",
		}, []string{"namespace", "from", "to", "result"}),
	}
	var err error
	if m.DeployDuration, err = register(registry, m.DeployDuration); err != nil {
		return nil, err
	}
	if m.EventToDeploy, err = register(registry, m.EventToDeploy); err != nil {
		return nil, err
	}
	if m.ClusterConnection, err = register(registry, m.ClusterConnection); err != nil {
		return nil, err
	}
	if m.Conflicts, err = register(registry, m.Conflicts); err != nil {
		return nil, err
	}
	if m.Promotions, err = register(registry, m.Promotions); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered in its place.
func register[C prometheus.Collector](registry prometheus.Registerer, c C) (C, error) {
	err := registry.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, fmt.Errorf("registering Tugboat metrics: %w", err)
}

// ObserveDeploy records how long deploying feature took; err decides the result label.
func (m *Metrics) ObserveDeploy(feature string, took time.Duration, err error) {
	if m == nil {
		return
	}
	result := ResultSuccess
	if err != nil {
		result = ResultFailure
	}
	m.DeployDuration.WithLabelValues(feature, result).Observe(took.Seconds())
}

// ObserveEventToDeploy records the latency from an event to its deployment.
func (m *Metrics) ObserveEventToDeploy(latency time.Duration) {
	if m == nil {
		return
	}
	m.EventToDeploy.Observe(latency.Seconds())
}

// SetClusterState sets the connection state of a cluster (StateHealthy or
// StateDown); an unknown state clears the cluster's series.
func (m *Metrics) SetClusterState(namespace, name, state string) {
	if m == nil {
		return
	}
	known := false
	for _, s := range states {
		known = known || s == state
	}
	if !known {
		m.ForgetCluster(namespace, name)
		return
	}
	for _, s := range states {
		v := 0.0
		if s == state {
			v = 1
		}
		m.ClusterConnection.WithLabelValues(namespace, name, s).Set(v)
	}
}

// ForgetCluster drops the series of a cluster that is gone or no longer in this shard.
func (m *Metrics) ForgetCluster(namespace, name string) {
	if m == nil {
		return
	}
	m.ClusterConnection.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "name": name})
}

// AddConflicts counts n resources of feature left undeployed because of a conflict.
func (m *Metrics) AddConflicts(feature string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.Conflicts.WithLabelValues(feature).Add(float64(n))
}

// CountPromotion records one promotion attempt from environment from to to; err
// decides the result label.
func (m *Metrics) CountPromotion(namespace, from, to string, err error) {
	if m == nil {
		return
	}
	result := ResultSuccess
	if err != nil {
		result = ResultFailure
	}
	m.Promotions.WithLabelValues(namespace, from, to, result).Inc()
}
