package clusters

import (
	"crypto/sha256"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/promotion"
)

// recordActiveWindow computes, at now, when the cluster's active window next
// opens and closes (status.nextUnpause, status.nextPause) and the hash of the
// window they come from; a cluster without spec.activeWindow has none of them.
// Whether the cluster is outside its window follows from those two times
// (SveltosCluster.OutsideActiveWindow), which is how selection and profiles
// see it as paused. It returns how long until the next opening or closing (0
// without a window) and an error naming the field whose cron expression does
// not parse, or the schedule that never fires; the cluster is then outside.
func recordActiveWindow(sc *libv1beta1.SveltosCluster, now time.Time) (time.Duration, error) {
	st := &sc.Status
	w := sc.Spec.ActiveWindow
	if w == nil {
		st.NextPause, st.NextUnpause, st.ActiveWindowHash = nil, nil, nil
		return 0, nil
	}
	sum := sha256.Sum256([]byte(w.From + "\x00" + w.To))
	st.ActiveWindowHash = sum[:]
	st.NextPause, st.NextUnpause = nil, nil
	from, err := promotion.ParseCron(w.From)
	if err != nil {
		return 0, fmt.Errorf("spec.activeWindow.from %q: %w", w.From, err)
	}
	to, err := promotion.ParseCron(w.To)
	if err != nil {
		return 0, fmt.Errorf("spec.activeWindow.to %q: %w", w.To, err)
	}
	opens, closes := from.Next(now), to.Next(now)
	if opens.IsZero() {
		return 0, fmt.Errorf("spec.activeWindow.from %q never fires", w.From)
	}
	if closes.IsZero() {
		return 0, fmt.Errorf("spec.activeWindow.to %q never fires", w.To)
	}
	st.NextUnpause, st.NextPause = &metav1.Time{Time: opens}, &metav1.Time{Time: closes}
	next := opens
	if closes.Before(next) {
		next = closes
	}
	return next.Sub(now), nil
}
