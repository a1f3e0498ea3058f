package promotion

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseCron reads the cron expression of a time window (Sveltos' from/to of a
// promotionWindow or a cluster's activeWindow): five fields or a descriptor
// such as @daily, in UTC unless it names a zone with CRON_TZ= (or TZ=).
func ParseCron(expr string) (cron.Schedule, error) {
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
