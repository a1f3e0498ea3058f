package profiles

import (
	"context"
	"sync"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Checks that nothing watched can bring back — metric checks (health_metrics.go)
// and a gate's failed Job waiting to run again (health_jobs.go) — ask, during
// the summary's reconcile, for the summary to come back after some time. The
// asks are collected in the reconcile's context and the soonest becomes the
// reconcile's RequeueAfter: the controller's work queue holds it, one entry per
// summary, and drops none however many summaries are due at once (a channel
// of requeues would, once full). Each reconcile that evaluates such a check asks
// again, so the polling goes on exactly as long as the checks are asked.

// comeBack is the soonest time a reconcile's checks asked to come back after.
type comeBack struct {
	mu    sync.Mutex
	after time.Duration
}

type comeBackKey struct{}

// withComeBack returns ctx carrying a new comeBack for one reconcile.
func withComeBack(ctx context.Context) (context.Context, *comeBack) {
	c := &comeBack{}
	return context.WithValue(ctx, comeBackKey{}, c), c
}

// askComeBack asks, through ctx's comeBack, that the summary be reconciled
// again after d; without one it does nothing.
func askComeBack(ctx context.Context, d time.Duration) {
	if c, ok := ctx.Value(comeBackKey{}).(*comeBack); ok {
		c.ask(d)
	}
}

func (c *comeBack) ask(d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.after == 0 || d < c.after {
		c.after = d
	}
}

// result is the reconcile's result with the soonest ask: it shortens a later
// RequeueAfter and leaves a sooner one. A failed reconcile is retried with the
// work queue's backoff instead (controller-runtime ignores RequeueAfter then),
// and the retry asks again.
func (c *comeBack) result(res ctrl.Result, err error) ctrl.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.after == 0 {
		return res
	}
	if res.RequeueAfter == 0 || c.after < res.RequeueAfter {
		res.RequeueAfter = c.after
	}
	return res
}
