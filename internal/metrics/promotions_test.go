package metrics_test

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tugboat-dev/tugboat/internal/metrics"
)

func TestPromotions(t *testing.T) {
	m, reg := newMetrics(t)
	m.CountPromotion("platform", "dev", "stage", nil)
	m.CountPromotion("platform", "dev", "stage", nil)
	m.CountPromotion("platform", "dev", "stage", errors.New("push rejected"))
	if got := testutil.ToFloat64(m.Promotions.WithLabelValues("platform", "dev", "stage", metrics.ResultSuccess)); got != 2 {
		t.Errorf("successful promotions = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.Promotions.WithLabelValues("platform", "dev", "stage", metrics.ResultFailure)); got != 1 {
		t.Errorf("failed promotions = %v, want 1", got)
	}
	if problems, err := testutil.GatherAndLint(reg, metrics.PromotionsName); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	var none *metrics.Metrics
	none.CountPromotion("platform", "dev", "stage", nil)
}
