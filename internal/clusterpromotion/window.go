package clusterpromotion

import (
	"fmt"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/promotion"
)

// scheduledWindow reads a promotionWindow for the gate: two cron expressions
// (five fields or a descriptor), in UTC unless they name a zone with CRON_TZ=.
func scheduledWindow(w *configv1beta1.TimeWindow) (promotion.ScheduledWindow, error) {
	from, err := promotion.ParseCron(w.From)
	if err != nil {
		return promotion.ScheduledWindow{}, fmt.Errorf("promotionWindow.from %q: %w", w.From, err)
	}
	to, err := promotion.ParseCron(w.To)
	if err != nil {
		return promotion.ScheduledWindow{}, fmt.Errorf("promotionWindow.to %q: %w", w.To, err)
	}
	return promotion.ScheduledWindow{From: from, To: to, Description: fmt.Sprintf("from %q to %q", w.From, w.To)}, nil
}
