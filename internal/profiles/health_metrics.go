package profiles

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/health"
)

// Metric checks (validateHealths[].metricSource, metricQueries): before its
// script runs, the check's PromQL instant queries are asked of the
// Prometheus-compatible endpoint, from the management cluster; the values
// reach the script as metrics[name]. Metrics cannot be watched: a reconcile
// that evaluated a metric check asks to come back after HealthMetricsInterval
// (health_come_back.go), and so the checks are evaluated again for as long as
// they are asked.

// DefaultHealthMetricsInterval is how often metric checks are evaluated again
// when the reconciler's HealthMetricsInterval is not set.
const DefaultHealthMetricsInterval = 30 * time.Second

// pollMetrics asks for the summary of this reconcile to come back after the
// metrics interval.
func (r *SummaryReconciler) pollMetrics(ctx context.Context) {
	interval := r.HealthMetricsInterval
	if interval <= 0 {
		interval = DefaultHealthMetricsInterval
	}
	askComeBack(ctx, interval)
}

// queryMetrics asks the check's metricQueries of its metricSource. Any
// failure (the credentials Secret missing, the endpoint unreachable, a query
// refused or answering more or less than one value) is an error naming the
// profile, the check and the field.
func (r *SummaryReconciler) queryMetrics(ctx context.Context, s *configv1beta1.ClusterSummary, c *health.Check) (map[string]any, error) {
	prof := profileOf(s)
	src := c.Metrics.Source
	where := fmt.Sprintf("%s: %s: metricSource %s", profileName(prof), c.Where(), src.URL)
	var secret map[string][]byte
	if ref := src.SecretRef; ref != nil {
		ns := ref.Namespace
		if ns == "" {
			ns = referenceNamespace(prof)
		}
		if ns == "" {
			return nil, fmt.Errorf("%s: secretRef %s has no namespace (required in a ClusterProfile)", where, ref.Name)
		}
		if prof.Kind == configv1beta1.ProfileKind && ns != prof.Namespace {
			return nil, fmt.Errorf("%s: secretRef %s/%s is outside the Profile's namespace", where, ns, ref.Name)
		}
		sec := &corev1.Secret{}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, sec); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s: secretRef: Secret %s/%s not found", where, ns, ref.Name)
			}
			return nil, fmt.Errorf("%s: secretRef: %w", where, err)
		}
		secret = sec.Data
	}
	mc, err := health.NewMetricClient(src, secret)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	values, err := mc.Query(ctx, c.Metrics.Queries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return values, nil
}
