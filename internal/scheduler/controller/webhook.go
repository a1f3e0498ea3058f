package controller

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// HookPrefix is the path of the scheduler's webhooks: HookPrefix + <namespace>/<name>.
const HookPrefix = "/hooks/scheduler/"

// webhookServer serves the scheduler's webhook on every replica; only the
// elected one (whose controller drains the events) accepts hooks.
type webhookServer struct {
	listener net.Listener
	handler  *hookHandler
}

func newWebhookServer(address string, secret []byte, reader client.Reader, events chan<- event.GenericEvent, elected <-chan struct{}) (*webhookServer, error) {
	l, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("scheduler webhook: listening on %s: %w", address, err)
	}
	return &webhookServer{listener: l, handler: &hookHandler{secret: secret, reader: reader, events: events, elected: elected}}, nil
}

func (s *webhookServer) addr() string { return s.listener.Addr().String() }

// NeedLeaderElection: the server runs on standbys too, answering 503.
func (s *webhookServer) NeedLeaderElection() bool { return false }

// Start serves until ctx ends.
func (s *webhookServer) Start(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle(HookPrefix, s.handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(s.listener) }()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		return nil
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("scheduler webhook: %w", err)
	}
}

// hookHandler: POST /hooks/scheduler/<namespace>/<name> enqueues that GitOpsRepo.
// The request body (a forge's push event, say) is not interpreted: the controller
// fetches the control plane and compares commits itself. With a secret, the
// request must carry GitHub's X-Hub-Signature-256 (HMAC-SHA256 of the body).
type hookHandler struct {
	secret  []byte
	reader  client.Reader
	events  chan<- event.GenericEvent
	elected <-chan struct{}
}

func (h *hookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, HookPrefix), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		http.Error(w, "want "+HookPrefix+"<namespace>/<name>", http.StatusNotFound)
		return
	}
	if len(h.secret) > 0 && !validSignature(r, h.secret) {
		http.Error(w, "missing or wrong X-Hub-Signature-256", http.StatusUnauthorized)
		return
	}
	select {
	case <-h.elected:
	default:
		http.Error(w, "not the leader", http.StatusServiceUnavailable)
		return
	}
	key := types.NamespacedName{Namespace: parts[0], Name: parts[1]}
	repo := &v1alpha1.GitOpsRepo{}
	if err := h.reader.Get(r.Context(), key, repo); err != nil {
		if client.IgnoreNotFound(err) == nil {
			http.Error(w, fmt.Sprintf("GitOpsRepo %s not found", key), http.StatusNotFound)
			return
		}
		http.Error(w, "reading GitOpsRepo: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if repo.Spec.ControlPlane == "" {
		http.Error(w, fmt.Sprintf("GitOpsRepo %s has no spec.controlPlane", key), http.StatusUnprocessableEntity)
		return
	}
	obj := &v1alpha1.GitOpsRepo{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	select {
	case h.events <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
		http.Error(w, "scheduler busy", http.StatusServiceUnavailable)
		return
	}
	log.FromContext(r.Context()).V(1).Info("scheduler webhook", "gitopsrepo", key)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "GitOpsRepo %s queued\n", key)
}

// maxHookBody bounds the request bodies read to check signatures.
const maxHookBody = 25 << 20

// SignatureHeader is the header carrying the HMAC of a hook's body.
const SignatureHeader = "X-Hub-Signature-256"

// Sign returns the SignatureHeader value for body: "sha256=" + hex HMAC-SHA256.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func validSignature(r *http.Request, secret []byte) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHookBody))
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(r.Header.Get(SignatureHeader)), []byte(Sign(secret, body)))
}
