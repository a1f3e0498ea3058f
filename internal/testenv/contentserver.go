package testenv

import (
	"net/http"
	"sync"
)

// ContentServer is an http.Handler that stands in for remote content (a
// remoteURL's file, an archive): it answers every request that Authorized
// accepts with the body and status last set, or, after Hang, does not answer
// at all until the client gives up. Serve it with httptest.NewTLSServer.
type ContentServer struct {
	// Authorized tells whether a request may read the content; a request it
	// refuses gets 401. Nil lets every request read.
	Authorized func(*http.Request) bool

	mu     sync.Mutex
	body   []byte
	status int
	hang   bool
}

// Set has the server answer status with body from now on.
func (s *ContentServer) Set(body []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status, s.hang = body, status, false
}

// Hang has the server give no answer from now on (until the next Set).
func (s *ContentServer) Hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = true
}

// ServeHTTP answers r as the server was last set to.
func (s *ContentServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Authorized != nil && !s.Authorized(r) {
		http.Error(w, "who are you", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	body, status, hang := s.body, s.status, s.hang
	s.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// BearerToken accepts the requests that carry token as their bearer token.
func BearerToken(token string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+token }
}

// BasicAuth accepts the requests that carry user and password.
func BasicAuth(user, password string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == user && p == password
	}
}
