package managertest

import "sync"

// Stopper holds how to stop the manager a test package runs, for the tests
// that stop it and start another (a restart). The zero value holds none.
type Stopper struct {
	mu   sync.Mutex
	stop func()
}

// Set records stop as the way to stop the running manager.
func (s *Stopper) Set(stop func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop = stop
}

// Stop stops the running manager, if one was set, and forgets it.
func (s *Stopper) Stop() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}
