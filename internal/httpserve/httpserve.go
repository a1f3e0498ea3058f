// Package httpserve holds what Tugboat's HTTP endpoints (the dashboard, the
// CloudEvents endpoint) share: serving until the manager stops, and the address
// a started endpoint listens on.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// ShutdownTimeout is how long open requests are given to finish once the
// context ends.
const ShutdownTimeout = 10 * time.Second

// Address is the address an endpoint listens on; the zero value knows none.
type Address struct {
	mu   sync.Mutex
	addr net.Addr
}

// Get returns the address, nil before the endpoint listens.
func (a *Address) Get() net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// Set records the address the endpoint listens on.
func (a *Address) Set(addr net.Addr) {
	a.mu.Lock()
	a.addr = addr
	a.mu.Unlock()
}

// Serve serves srv on ln until ctx ends, then shuts srv down, giving open
// requests ShutdownTimeout to finish. It returns nil once srv is shut down, or
// the error that stopped it serving.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
