// Package pullmode reaches SveltosClusters in pull mode: instead of the
// manager connecting to a managed cluster's API server, an agent running in
// (or beside) the managed cluster dials out to the manager's Hub, and the
// manager's Kubernetes API requests travel back through that connection to the
// agent, which hands them to its local API server with its own credentials.
//
// The connection is an HTTP/1.1 upgrade (GET /pullmode/v1/connect/<namespace>/<name>,
// Upgrade: tugboat-pullmode/1) authenticated with a management-cluster
// ServiceAccount token (a TokenReview) and authorized with a
// SubjectAccessReview (may this user "connect" sveltosclusters/agent named
// <name> in <namespace>?). Once upgraded, the connection carries a yamux
// session: the Hub opens one stream per connection its clients dial, the Agent
// serves plain HTTP on each stream and proxies it to its API server.
//
// Hub.RESTConfig gives the cluster registry (internal/clusters) a client
// configuration whose dialer opens such a stream, so every controller reaches
// a pull-mode cluster exactly as it reaches any other.
package pullmode

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/yamux"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/httpserve"
)

const (
	// UpgradeProtocol is the value of the Upgrade header of an agent's connection.
	UpgradeProtocol = "tugboat-pullmode/1"
	// ConnectPath is the path prefix an agent connects to; the cluster's
	// namespace and name follow.
	ConnectPath = "/pullmode/v1/connect/"

	// AgentSubresource is the subresource of sveltosclusters an agent's
	// identity must be allowed to "connect" (resourceNames: the cluster).
	AgentSubresource = "agent"
	// ConnectVerb is the verb of that permission.
	ConnectVerb = "connect"

	// HostSuffix ends the host of every pull-mode cluster's client
	// configuration: <name>.<namespace>.pullmode.invalid. The name never
	// resolves; the dialer opens a stream to the agent instead.
	HostSuffix = ".pullmode.invalid"
)

// HubOptions configure the hub's HTTPS endpoint.
type HubOptions struct {
	// Address is where agents connect ("host:port").
	Address string
	// TLSCertFile and TLSKeyFile are the serving certificate. Without them the
	// hub serves a certificate of its own, signed by the CA kept in the Secret
	// CASecretName of Namespace (created at the first start), whose ca.crt
	// agents trust.
	TLSCertFile, TLSKeyFile string
	// Hosts are the names and addresses agents reach the hub by: the
	// subject alternative names of its own certificate (localhost and
	// 127.0.0.1 are always added).
	Hosts []string
	// Namespace is the manager's namespace, where the CA Secret is kept.
	Namespace string
}

// Check says whether the options can serve.
func (o HubOptions) Check() error {
	if o.Address == "" {
		return fmt.Errorf("the pull-mode hub needs an address")
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return fmt.Errorf("the pull-mode hub needs both a TLS certificate and a key")
	}
	if o.TLSCertFile == "" && o.Namespace == "" {
		return fmt.Errorf("the pull-mode hub needs a namespace for its CA Secret when it makes its own certificate")
	}
	return nil
}

// Hub is the manager's side of pull mode: it accepts agents' connections and
// dials through them. It serves on every replica; only the elected leader
// accepts agents (the others answer 503, and the agent retries).
type Hub struct {
	// Client reviews tokens and access, reads SveltosClusters and writes the
	// CA Secret in the management cluster.
	Client client.Client
	// Reader reads the CA Secret at start (uncached: the manager's cache may
	// not run yet); nil uses Client.
	Reader  client.Reader
	Options HubOptions
	// ShardKey is the shard of the manager: a cluster annotated with another
	// shard is refused (421), its own manager serves it.
	ShardKey string
	// Elected is closed once this replica leads (nil: it always does).
	Elected <-chan struct{}
	// Log receives connections and disconnections.
	Log logr.Logger
	// Recorder, when set, reports each refused agent of an existing
	// SveltosCluster in a Warning Event AgentRefused on it.
	Recorder events.EventRecorder

	listening httpserve.Address

	mu       sync.Mutex
	sessions map[libv1beta1.ClusterID]*yamux.Session
	// lastConnected is when each cluster's agent last connected.
	lastConnected map[libv1beta1.ClusterID]time.Time
	// lastRefused is the last refusal of each cluster's agent, told by dial
	// errors (and so by the cluster's status) while it is not connected.
	lastRefused map[libv1beta1.ClusterID]refusal
	subscribers []func(cluster libv1beta1.ClusterID, connected bool)
}

// NeedLeaderElection is false: every replica serves, only the leader accepts.
func (h *Hub) NeedLeaderElection() bool { return false }

// Addr is the address the hub listens on, once it started.
func (h *Hub) Addr() net.Addr { return h.listening.Get() }

// Subscribe has fn told of every agent that connects (connected true) or
// whose connection ends (false). fn runs on the hub's goroutines: it must
// return quickly.
func (h *Hub) Subscribe(fn func(cluster libv1beta1.ClusterID, connected bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subscribers = append(h.subscribers, fn)
}

// Connected reports whether the agent of cluster is connected now.
func (h *Hub) Connected(cluster libv1beta1.ClusterID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.sessions[cluster.Normal()]
	return ok
}

// RESTConfig is the client configuration that reaches cluster through its
// agent: a host of its own (<name>.<namespace>.pullmode.invalid, so that no
// two clusters share an endpoint), no credentials (the agent uses its own),
// and a dialer that opens a stream on the agent's current connection, looked
// up at each dial (a reconnected agent is used at once).
func (h *Hub) RESTConfig(cluster libv1beta1.ClusterID) *rest.Config {
	cluster = cluster.Normal()
	return &rest.Config{
		Host: "http://" + cluster.Name + "." + cluster.Namespace + HostSuffix,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return h.dial(ctx, cluster)
		},
		// Never through an HTTP proxy of the environment: the host does not exist.
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
	}
}

// refusal is an agent's connection the hub did not accept.
type refusal struct {
	at      time.Time
	status  int
	message string
}

// dial opens a stream to cluster's agent.
func (h *Hub) dial(ctx context.Context, cluster libv1beta1.ClusterID) (net.Conn, error) {
	h.mu.Lock()
	sess, ok := h.sessions[cluster]
	last, seen := h.lastConnected[cluster]
	refused, wasRefused := h.lastRefused[cluster]
	h.mu.Unlock()
	if !ok {
		when := "never"
		if seen {
			when = last.UTC().Format(time.RFC3339)
		}
		if wasRefused && (!seen || refused.at.After(last)) {
			when += fmt.Sprintf("; its last attempt, at %s, was refused: %d %s", refused.at.UTC().Format(time.RFC3339), refused.status, refused.message)
		}
		return nil, fmt.Errorf("the agent of pull-mode cluster %s/%s is not connected (last connected %s)", cluster.Namespace, cluster.Name, when)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stream, err := sess.Open()
	if err != nil {
		return nil, fmt.Errorf("opening a stream to the agent of pull-mode cluster %s/%s: %w", cluster.Namespace, cluster.Name, err)
	}
	return stream, nil
}

// Start serves agents until ctx ends, then closes their connections.
func (h *Hub) Start(ctx context.Context) error {
	if err := h.Options.Check(); err != nil {
		return err
	}
	if h.Log.GetSink() == nil {
		h.Log = logr.Discard()
	}
	tlsConfig, err := h.tlsConfig(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", h.Options.Address)
	if err != nil {
		return fmt.Errorf("pull-mode hub: %w", err)
	}
	ln = tls.NewListener(ln, tlsConfig)
	h.listening.Set(ln.Addr())
	mux := http.NewServeMux()
	mux.Handle(ConnectPath, h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	h.Log.Info("serving pull-mode agents", "address", ln.Addr().String())
	defer h.closeAll()
	return httpserve.Serve(ctx, srv, ln)
}

// closeAll ends every agent's connection (the hub stops).
func (h *Hub) closeAll() {
	h.mu.Lock()
	sessions := make([]*yamux.Session, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		_ = s.Close()
	}
}

func (h *Hub) leading() bool { return httpserve.Leading(h.Elected) }

// ServeHTTP accepts an agent: GET /pullmode/v1/connect/<namespace>/<name>,
// upgraded to UpgradeProtocol, with a bearer token allowed to connect
// sveltosclusters/agent of that cluster. It answers 101 and keeps the
// connection; otherwise 400 (not such a request), 401 (no valid token), 403
// (not allowed, naming the user and the cluster), 404 (no such
// SveltosCluster), 409 (not in pull mode), 421 (another shard's cluster) or
// 503 (not the leader, or the management cluster could not answer).
func (h *Hub) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, ConnectPath), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		http.Error(w, "want GET "+ConnectPath+"<namespace>/<name>", http.StatusNotFound)
		return
	}
	cluster := libv1beta1.SveltosClusterID(parts[0], parts[1])
	if req.Method != http.MethodGet || !strings.EqualFold(req.Header.Get("Upgrade"), UpgradeProtocol) ||
		!headerHasToken(req.Header, "Connection", "upgrade") {
		http.Error(w, "want GET with Connection: Upgrade and Upgrade: "+UpgradeProtocol, http.StatusBadRequest)
		return
	}
	if !h.leading() {
		http.Error(w, "this manager replica is not the leader: connect again", http.StatusServiceUnavailable)
		return
	}
	token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		http.Error(w, "a bearer token is required", http.StatusUnauthorized)
		return
	}
	sc := &libv1beta1.SveltosCluster{}
	getErr := h.Client.Get(ctx, cluster.Key(), sc)
	if getErr != nil {
		sc = nil
	}
	status, msg := h.authorize(ctx, token, cluster)
	if status != 0 {
		h.refuse(w, cluster, sc, status, msg)
		return
	}
	switch {
	case apierrors.IsNotFound(getErr):
		h.refuse(w, cluster, nil, http.StatusNotFound, fmt.Sprintf("SveltosCluster %s/%s not found", cluster.Namespace, cluster.Name))
	case getErr != nil:
		h.refuse(w, cluster, nil, http.StatusServiceUnavailable, fmt.Sprintf("reading SveltosCluster %s/%s: %v", cluster.Namespace, cluster.Name, getErr))
	case !sc.Spec.PullMode:
		h.refuse(w, cluster, sc, http.StatusConflict, fmt.Sprintf("SveltosCluster %s/%s is not in pull mode (spec.pullMode is false)", cluster.Namespace, cluster.Name))
	case sc.Annotations[libv1beta1.ShardAnnotation] != h.ShardKey:
		h.refuse(w, cluster, sc, http.StatusMisdirectedRequest, fmt.Sprintf("SveltosCluster %s/%s belongs to shard %q, this manager serves shard %q",
			cluster.Namespace, cluster.Name, sc.Annotations[libv1beta1.ShardAnnotation], h.ShardKey))
	default:
		h.accept(w, cluster)
	}
}

// refuse answers an agent's connection with status and msg. A refusal of an
// authenticated agent of a pull-mode cluster of this shard is remembered for
// the cluster's dial errors (and so its status.failureMessage) and reported
// in a Warning Event AgentRefused on it.
func (h *Hub) refuse(w http.ResponseWriter, cluster libv1beta1.ClusterID, sc *libv1beta1.SveltosCluster, status int, msg string) {
	http.Error(w, msg, status)
	h.Log.Info("pull-mode agent refused", "cluster", cluster.String(), "status", status, "reason", msg)
	// Whoever presents no valid token leaves no trace but the log.
	if status == http.StatusUnauthorized || sc == nil || !sc.Spec.PullMode || sc.Annotations[libv1beta1.ShardAnnotation] != h.ShardKey {
		return
	}
	h.mu.Lock()
	if h.lastRefused == nil {
		h.lastRefused = map[libv1beta1.ClusterID]refusal{}
	}
	h.lastRefused[cluster] = refusal{at: time.Now(), status: status, message: msg}
	h.mu.Unlock()
	if h.Recorder != nil {
		h.Recorder.Eventf(sc, nil, corev1.EventTypeWarning, "AgentRefused", "Connect", "spec.pullMode: the agent's connection was refused (%d): %s", status, msg)
	}
}

// headerHasToken reports whether a comma-separated header holds token.
func headerHasToken(header http.Header, name, token string) bool {
	for _, v := range header.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// authorize reviews token and its right to connect as cluster's agent; a
// non-zero status is the refusal.
func (h *Hub) authorize(ctx context.Context, token string, cluster libv1beta1.ClusterID) (int, string) {
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := h.Client.Create(ctx, review); err != nil {
		return http.StatusServiceUnavailable, fmt.Sprintf("reviewing the agent's token: %v", err)
	}
	if !review.Status.Authenticated {
		return http.StatusUnauthorized, "the bearer token is not valid in the management cluster"
	}
	u := review.Status.User
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	access := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: u.Username, Groups: u.Groups, UID: u.UID, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: ConnectVerb, Group: libv1beta1.GroupVersion.Group, Resource: "sveltosclusters",
			Subresource: AgentSubresource, Namespace: cluster.Namespace, Name: cluster.Name,
		},
	}}
	if err := h.Client.Create(ctx, access); err != nil {
		return http.StatusServiceUnavailable, fmt.Sprintf("reviewing %s's access to SveltosCluster %s/%s: %v", u.Username, cluster.Namespace, cluster.Name, err)
	}
	if !access.Status.Allowed {
		return http.StatusForbidden, fmt.Sprintf("%s may not connect as the agent of SveltosCluster %s/%s (it needs verb connect on sveltosclusters/agent, resourceName %s, in namespace %s)",
			u.Username, cluster.Namespace, cluster.Name, cluster.Name, cluster.Namespace)
	}
	return 0, ""
}

// accept switches the connection to the agent's session: it replaces the
// cluster's previous one, which is closed.
func (h *Hub) accept(w http.ResponseWriter, cluster libv1beta1.ClusterID) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "the connection cannot be upgraded", http.StatusInternalServerError)
		return
	}
	conn, rw, err := hijacker.Hijack()
	if err != nil {
		h.Log.Error(err, "upgrading an agent's connection", "cluster", cluster.String())
		return
	}
	_ = conn.SetDeadline(time.Time{}) // the session lives as long as the agent; yamux keepalives watch it
	if _, err := io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+UpgradeProtocol+"\r\n\r\n"); err != nil {
		_ = conn.Close()
		return
	}
	sess, err := yamux.Client(&bufferedConn{Conn: conn, r: rw.Reader}, sessionConfig())
	if err != nil {
		_ = conn.Close()
		h.Log.Error(err, "starting an agent's session", "cluster", cluster.String())
		return
	}
	now := time.Now()
	h.mu.Lock()
	if h.sessions == nil {
		h.sessions = map[libv1beta1.ClusterID]*yamux.Session{}
		h.lastConnected = map[libv1beta1.ClusterID]time.Time{}
	}
	old := h.sessions[cluster]
	h.sessions[cluster] = sess
	h.lastConnected[cluster] = now
	subscribers := slices.Clone(h.subscribers)
	h.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	h.Log.Info("pull-mode agent connected", "cluster", cluster.String(), "remote", conn.RemoteAddr().String(), "replaced", old != nil)
	for _, fn := range subscribers {
		fn(cluster, true)
	}
	go h.awaitClose(cluster, sess)
}

// awaitClose forgets sess once it ends, unless a newer one replaced it.
func (h *Hub) awaitClose(cluster libv1beta1.ClusterID, sess *yamux.Session) {
	<-sess.CloseChan()
	h.mu.Lock()
	current := h.sessions[cluster] == sess
	if current {
		delete(h.sessions, cluster)
	}
	subscribers := slices.Clone(h.subscribers)
	h.mu.Unlock()
	if !current {
		return
	}
	h.Log.Info("pull-mode agent disconnected", "cluster", cluster.String())
	for _, fn := range subscribers {
		fn(cluster, false)
	}
}

// sessionConfig is yamux's configuration on both sides: its logs are dropped
// (the hub and the agent log what matters), keepalives detect a dead peer.
func sessionConfig() *yamux.Config {
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	cfg.KeepAliveInterval = 15 * time.Second
	return cfg
}

// bufferedConn reads first what the HTTP server buffered after the request.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
