package testenv

import (
	"context"
	"errors"
	"sync"
)

// Parallel calls fn(i) for every i in [0, n) on at most workers goroutines and
// returns every error fn returned, joined. It stops handing out indices when
// ctx ends and then returns ctx's error with them. It is the worker pool of the
// load tests (bench/fleet) and the chaos tests (test/chaos).
func Parallel(ctx context.Context, workers, n int, fn func(int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
handOut:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break handOut
		}
	}
	close(next)
	wg.Wait()
	return errors.Join(append(errs, ctx.Err())...)
}
