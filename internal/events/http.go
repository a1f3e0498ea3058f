package events

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/httpserve"
)

// HTTPTokenKey is the key of the bearer token in the endpoint's token Secret.
const HTTPTokenKey = "token"

// maxEventBytes bounds the body of one CloudEvent.
const maxEventBytes = 1 << 20

// HTTPOptions configure the CloudEvents HTTP endpoint.
type HTTPOptions struct {
	// Address is where POST /events/<namespace>/<cluster> is served ("host:port").
	Address string
	// TokenSecret names the Secret whose key "token" holds the bearer token
	// callers must present (read on every request: rotating it needs no restart).
	TokenSecret types.NamespacedName
	// TLSCertFile and TLSKeyFile make the endpoint serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// ClientCAFile, with TLS, makes a client certificate signed by these CAs
	// authenticate a caller (mutual TLS) instead of the token.
	ClientCAFile string
}

// HTTPEndpoint receives CloudEvents over HTTP, in the structured and the
// binary content mode: POST /events/<namespace>/<cluster> raises the event
// for that source cluster (a SveltosCluster; ?clusterType=Capi for a Cluster
// API Cluster; ?subject=S plays the NATS subject messagingMatchCriteria.subject
// matches). It answers once the generated objects are written: 200 with the
// receipt, 422 when the event matched no EventTrigger or every matching one
// rejected it, 400 for a malformed CloudEvent, 401 without valid credentials,
// 404 for an unknown cluster, 503 when writing failed (send it again). A
// replica that is not the leader records the event and answers 202; the
// leader generates from the record.
type HTTPEndpoint struct {
	Receiver *TriggerReconciler
	// Reader reads the token Secret.
	Reader  client.Reader
	Options HTTPOptions
	// Elected is closed once this replica leads (nil: it always does).
	Elected <-chan struct{}

	listening httpserve.Address
}

// NeedLeaderElection is false: every replica serves, only the leader reconciles.
func (e *HTTPEndpoint) NeedLeaderElection() bool { return false }

// Addr is the address the endpoint listens on, once it started.
func (e *HTTPEndpoint) Addr() net.Addr { return e.listening.Get() }

// Check says whether the options can authenticate callers.
func (o HTTPOptions) Check() error {
	if o.TokenSecret.Name == "" && o.ClientCAFile == "" {
		return fmt.Errorf("the CloudEvents endpoint needs a token Secret or a client CA (mutual TLS) to authenticate callers")
	}
	if o.ClientCAFile != "" && (o.TLSCertFile == "" || o.TLSKeyFile == "") {
		return fmt.Errorf("the CloudEvents endpoint's client CA needs a TLS certificate and key")
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return fmt.Errorf("the CloudEvents endpoint needs both a TLS certificate and a key")
	}
	return nil
}

// Start serves until ctx ends.
func (e *HTTPEndpoint) Start(ctx context.Context) error {
	if err := e.Options.Check(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", e.Options.Address)
	if err != nil {
		return fmt.Errorf("CloudEvents endpoint: %w", err)
	}
	if e.Options.TLSCertFile != "" {
		cfg, err := e.tlsConfig()
		if err != nil {
			_ = ln.Close()
			return err
		}
		ln = tls.NewListener(ln, cfg)
	}
	e.listening.Set(ln.Addr())
	mux := http.NewServeMux()
	mux.Handle("/events/", e)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.FromContext(ctx).Info("serving CloudEvents", "address", ln.Addr().String(), "tls", e.Options.TLSCertFile != "")
	return httpserve.Serve(ctx, srv, ln)
}

func (e *HTTPEndpoint) tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(e.Options.TLSCertFile, e.Options.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("CloudEvents endpoint certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if e.Options.ClientCAFile != "" {
		pem, err := os.ReadFile(e.Options.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("CloudEvents endpoint client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CloudEvents endpoint client CA %s holds no PEM certificate", e.Options.ClientCAFile)
		}
		// Verified when presented; a caller without one must present the token.
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// ServeHTTP handles POST /events/<namespace>/<cluster>.
func (e *HTTPEndpoint) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/events/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		httpError(w, http.StatusNotFound, "want POST /events/<namespace>/<cluster>")
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "only POST")
		return
	}
	if status, msg := e.authenticate(ctx, req); status != 0 {
		httpError(w, status, msg)
		return
	}
	cluster := libv1beta1.SveltosClusterID(parts[0], parts[1])
	switch t := req.URL.Query().Get("clusterType"); strings.ToLower(t) {
	case "", "sveltos":
	case "capi":
		cluster = libv1beta1.CAPIClusterID(parts[0], parts[1])
	default:
		httpError(w, http.StatusBadRequest, fmt.Sprintf("clusterType %q: want Sveltos or Capi", t))
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxEventBytes+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	if len(body) > maxEventBytes {
		httpError(w, http.StatusRequestEntityTooLarge, "a CloudEvent may not exceed 1 MiB")
		return
	}
	ev, err := ParseCloudEvent(ctx, req.Header, body)
	if err != nil {
		e.Receiver.clusterEvent(ctx, cluster, corev1.EventTypeWarning, "CloudEventInvalid", "HTTP request dropped: %s", err)
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	subject := req.URL.Query().Get("subject")
	leader := e.leading()
	receipt, err := e.Receiver.receive(ctx, cluster, subject, ev, leader)
	switch {
	case errors.Is(err, ErrNotReceivable):
		httpError(w, http.StatusNotFound, err.Error())
	case err != nil:
		log.FromContext(ctx).Error(err, "processing a CloudEvent received over HTTP", "cluster", cluster.String())
		httpError(w, http.StatusServiceUnavailable, err.Error())
	case len(receipt.Triggers) == 0:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": fmt.Sprintf("%s matches no EventTrigger sourcing cluster %s", receipt.Event, cluster), "receipt": receipt})
	case receipt.Accepted() == 0:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "every EventTrigger matching it rejected the CloudEvent", "receipt": receipt})
	case !leader:
		writeJSON(w, http.StatusAccepted, receipt)
	default:
		writeJSON(w, http.StatusOK, receipt)
	}
}

func (e *HTTPEndpoint) leading() bool { return httpserve.Leading(e.Elected) }

// authenticate returns 0 when the caller presented a verified client
// certificate or the bearer token; else the status and message to answer.
func (e *HTTPEndpoint) authenticate(ctx context.Context, req *http.Request) (int, string) {
	if req.TLS != nil && len(req.TLS.VerifiedChains) > 0 {
		return 0, ""
	}
	if e.Options.TokenSecret.Name == "" {
		return http.StatusUnauthorized, "a client certificate signed by the endpoint's client CA is required"
	}
	got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return http.StatusUnauthorized, "missing bearer token (Authorization: Bearer <token>)"
	}
	secret := &corev1.Secret{}
	if err := e.Reader.Get(ctx, e.Options.TokenSecret, secret); err != nil {
		log.FromContext(ctx).Error(err, "reading the CloudEvents endpoint's token Secret", "secret", e.Options.TokenSecret.String())
		return http.StatusServiceUnavailable, "the endpoint's token cannot be read"
	}
	want := strings.TrimSpace(string(secret.Data[HTTPTokenKey]))
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(strings.TrimSpace(got))) != 1 {
		return http.StatusUnauthorized, "invalid bearer token"
	}
	return 0, ""
}

func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
