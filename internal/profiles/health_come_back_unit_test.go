package profiles

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// The checks of one reconcile that ask to come back (metric checks, a gate's
// failed Job) set its RequeueAfter: the soonest ask wins over a later
// RequeueAfter, a sooner one stays, a failed reconcile keeps the work queue's
// backoff, and asks from many goroutines keep the soonest. The work queue
// holds one entry per summary whatever their number: none is dropped.
func TestUnitComeBack(t *testing.T) {
	for _, c := range []struct {
		name string
		asks []time.Duration
		res  ctrl.Result
		err  error
		want time.Duration
	}{
		{"no ask", nil, ctrl.Result{}, nil, 0},
		{"one ask", []time.Duration{30 * time.Second}, ctrl.Result{}, nil, 30 * time.Second},
		{"the soonest ask", []time.Duration{30 * time.Second, time.Second, 10 * time.Second}, ctrl.Result{}, nil, time.Second},
		{"sooner than the result's", []time.Duration{time.Second}, ctrl.Result{RequeueAfter: 5 * time.Second}, nil, time.Second},
		{"later than the result's", []time.Duration{30 * time.Second}, ctrl.Result{RequeueAfter: 5 * time.Second}, nil, 5 * time.Second},
		{"failed reconcile", []time.Duration{time.Second}, ctrl.Result{}, errors.New("boom"), 0},
		{"a wait already over", []time.Duration{-time.Second}, ctrl.Result{}, nil, time.Millisecond},
	} {
		ctx, due := withComeBack(context.Background())
		for _, d := range c.asks {
			askComeBack(ctx, d)
		}
		if got := due.result(c.res, c.err).RequeueAfter; got != c.want {
			t.Errorf("%s: RequeueAfter %s, want %s", c.name, got, c.want)
		}
	}

	ctx, due := withComeBack(context.Background())
	var wg sync.WaitGroup
	for i := 1; i <= 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			askComeBack(ctx, time.Duration(i)*time.Second)
		}()
	}
	wg.Wait()
	if got := due.result(ctrl.Result{}, nil).RequeueAfter; got != time.Second {
		t.Errorf("concurrent asks: RequeueAfter %s, want 1s", got)
	}
	askComeBack(context.Background(), time.Second) // without a comeBack: nothing happens
}
