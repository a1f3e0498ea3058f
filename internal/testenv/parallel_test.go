package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// Parallel calls fn once for every index, joins every error, and stops handing
// out indices once its context ends.
func TestUnitParallel(t *testing.T) {
	var calls atomic.Int64
	err := Parallel(context.Background(), 4, 100, func(i int) error {
		calls.Add(1)
		if i == 7 || i == 42 {
			return fmt.Errorf("index %d", i)
		}
		return nil
	})
	if calls.Load() != 100 {
		t.Errorf("fn called %d times, want 100", calls.Load())
	}
	if err == nil {
		t.Fatal("errors of index 7 and 42 not returned")
	}
	for _, want := range []string{"index 7", "index 42"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls.Store(0)
	err = Parallel(ctx, 2, 1000, func(int) error { calls.Add(1); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: error %v, want context.Canceled", err)
	}
	if calls.Load() == 1000 {
		t.Error("ended context: every index was still handed out")
	}
}
