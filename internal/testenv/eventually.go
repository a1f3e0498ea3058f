package testenv

import (
	"testing"
	"time"
)

// WaitTimeout bounds how long Eventually waits. It is generous on purpose: tests
// assert on outcomes, never on how fast they arrive.
const WaitTimeout = 90 * time.Second

// Eventually polls check until it returns nil, failing the test with the last
// error after WaitTimeout.
func Eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %s: %v", what, WaitTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
