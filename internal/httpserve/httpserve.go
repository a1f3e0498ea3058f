// Package httpserve holds what Tugboat's HTTP endpoints (the dashboard, the
// CloudEvents endpoint, the pull-mode hub) and their clients share: serving
// until the manager stops, the address a started endpoint listens on, whether
// this replica leads, and a client's TLS configuration.
package httpserve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

// Leading tells whether this replica leads: elected (the manager's Elected
// channel) is closed, or nil when there is no leader election.
func Leading(elected <-chan struct{}) bool {
	if elected == nil {
		return true
	}
	select {
	case <-elected:
		return true
	default:
		return false
	}
}

// ClientTLS is a TLS 1.2+ client configuration that trusts the PEM
// certificates of rootCA, or the system's roots when rootCA is empty; false
// when rootCA is given but holds no PEM certificate.
func ClientTLS(rootCA []byte) (*tls.Config, bool) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(rootCA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(rootCA) {
			return nil, false
		}
		cfg.RootCAs = pool
	}
	return cfg, true
}
