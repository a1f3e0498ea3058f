package clusterpromotion

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/promotion"
)

// scheduledWindow reads a promotionWindow for the gate: two cron expressions
// (five fields or a descriptor), in UTC unless they name a zone with CRON_TZ=.
func scheduledWindow(w *configv1beta1.TimeWindow) (promotion.ScheduledWindow, error) {
	from, err := parseCron(w.From)
	if err != nil {
		return promotion.ScheduledWindow{}, fmt.Errorf("promotionWindow.from %q: %w", w.From, err)
	}
	to, err := parseCron(w.To)
	if err != nil {
		return promotion.ScheduledWindow{}, fmt.Errorf("promotionWindow.to %q: %w", w.To, err)
	}
	return promotion.ScheduledWindow{From: from, To: to, Description: fmt.Sprintf("from %q to %q", w.From, w.To)}, nil
}

func parseCron(expr string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, err
	}
	trimmed := strings.TrimSpace(expr)
	if spec, ok := s.(*cron.SpecSchedule); ok && !strings.HasPrefix(trimmed, "CRON_TZ=") && !strings.HasPrefix(trimmed, "TZ=") {
		spec.Location = time.UTC
	}
	return s, nil
}
