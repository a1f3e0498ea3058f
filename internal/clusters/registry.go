// Package clusters is Tugboat's cluster registry: it turns a SveltosCluster and its
// kubeconfig Secret into a connection (client, discovery) that every controller
// uses, keeps connections current when kubeconfigs change, and closes them when
// clusters go away. Watches, over those connections, is the one way controllers
// watch the clusters (shared informers, stopped when nobody needs them). The
// SveltosCluster controller in this package probes each cluster and reports its
// readiness.
package clusters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// ConfigError is a problem with how a cluster is registered (missing Secret,
// missing key, unparsable kubeconfig): retrying without a change will not help.
type ConfigError struct{ msg string }

func (e *ConfigError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &ConfigError{msg: fmt.Sprintf(format, args...)}
}

// IsConfigError reports whether err is a registration problem rather than a connection problem.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// Registry holds one Connection per registered cluster (a registration: a
// SveltosCluster or a Cluster API Cluster). Registrations whose kubeconfigs
// resolve to the same server and credentials share one Endpoint: one HTTP
// client, one REST mapper, and (through Watches) one informer per watched
// kind and label selector, whose events are delivered to the holders of every
// registration on it, each tagged with its own registration. What is counted
// or reported stays per registration: the writes (Connection.Writes), the
// troubles and answers (for every registration on the endpoint, since they
// reach the same server as the same user), the kubeconfig fingerprint — a
// changed kubeconfig moves its registration to another endpoint, the others
// stay. The endpoint is freed with its last registration.
type Registry struct {
	mgmt   client.Reader
	scheme *runtime.Scheme

	// The management cluster is reached with the manager's own credentials.
	managementRef    libv1beta1.ClusterID
	managementConfig *rest.Config

	// probeTimeout bounds one /version call.
	probeTimeout time.Duration

	// workloadIdentity are the credential plugins of spec.workloadIdentity.
	workloadIdentity WorkloadIdentityCommands
	// pullMode reaches the clusters in pull mode (nil: the manager's hub is off).
	pullMode PullModeHub

	// watches is the one watch facility over the registry's connections.
	watches *Watches

	// troubles carries the clusters a request could not reach, for the cluster
	// controller to probe at once (see Troubles); lastTrouble (under mu) rate
	// limits them per cluster.
	troubles    chan event.GenericEvent
	lastTrouble map[libv1beta1.ClusterID]time.Time
	// unanswered (under mu) are the clusters with a trouble reported and no
	// answer since: the first request they answer asks for a probe at once.
	unanswered map[libv1beta1.ClusterID]bool
	// returnSubscribers are told when a cluster answers again (see Returned).
	returnSubscribers []func(libv1beta1.ClusterID)

	mu    sync.Mutex
	conns map[libv1beta1.ClusterID]*Connection
	// endpoints are the endpoints of the open connections, by endpointKey.
	endpoints map[string]*Endpoint
	// subscribers are told of every connection opened or closed.
	subscribers []func(ConnectionEvent)
}

// ConnectionEvent says that a cluster's connection was opened (built on first
// use or rebuilt after a kubeconfig change) or closed (replaced, or the cluster
// forgotten).
type ConnectionEvent struct {
	Cluster    libv1beta1.ClusterID
	Connection *Connection
	// Closed is true for a closed connection, false for an opened one.
	Closed bool
}

// RegistryOptions configures a Registry.
type RegistryOptions struct {
	// Reader reads SveltosClusters and kubeconfig Secrets in the management cluster.
	Reader client.Reader
	// Scheme is used by the clients of every connection.
	Scheme *runtime.Scheme
	// ManagementCluster is the SveltosCluster that stands for the management
	// cluster itself; it is reached with ManagementConfig instead of a Secret.
	ManagementCluster types.NamespacedName
	ManagementConfig  *rest.Config
	// ProbeTimeout bounds one probe (default 10s).
	ProbeTimeout time.Duration
	// WorkloadIdentityCommands are the credential plugins run for clusters
	// with spec.workloadIdentity (empty fields: DefaultWorkloadIdentityCommands).
	WorkloadIdentityCommands WorkloadIdentityCommands
	// PullMode, when set, reaches the clusters in pull mode through their
	// agents; each agent's connection and disconnection asks for a probe of
	// its cluster at once. Without it, a pull-mode cluster fails its probe
	// with a ConfigError.
	PullMode PullModeHub
	// Log receives the watch facility's messages (default: controller-runtime's logger).
	Log logr.Logger
}

// NewRegistry returns an empty registry.
func NewRegistry(opts RegistryOptions) *Registry {
	if opts.ProbeTimeout == 0 {
		opts.ProbeTimeout = 10 * time.Second
	}
	if opts.Log.GetSink() == nil {
		opts.Log = ctrllog.Log
	}
	r := &Registry{
		mgmt:             opts.Reader,
		scheme:           opts.Scheme,
		managementRef:    libv1beta1.SveltosClusterID(opts.ManagementCluster.Namespace, opts.ManagementCluster.Name),
		managementConfig: opts.ManagementConfig,
		probeTimeout:     opts.ProbeTimeout,
		workloadIdentity: opts.WorkloadIdentityCommands,
		pullMode:         opts.PullMode,
		conns:            map[libv1beta1.ClusterID]*Connection{},
		endpoints:        map[string]*Endpoint{},
		troubles:         make(chan event.GenericEvent, 256),
		lastTrouble:      map[libv1beta1.ClusterID]time.Time{},
		unanswered:       map[libv1beta1.ClusterID]bool{},
	}
	r.watches = newWatches(r, opts.Log.WithName("cluster-watches"))
	if opts.PullMode != nil {
		// The cluster's state follows its agent within a probe.
		opts.PullMode.Subscribe(func(cluster libv1beta1.ClusterID, _ bool) { r.askProbe(cluster) })
	}
	return r
}

// troubleInterval is the least time between two troubles reported for one cluster.
const troubleInterval = 5 * time.Second

// Troubles yields a SveltosCluster (namespace and name only) when a request on
// its connection — a watch's, a deploy's, a withdrawal's — could not reach it,
// and again when the first request after that reaches it: the cluster
// controller probes it at once instead of at its next periodic probe or retry,
// so its state follows what the manager sees, going down and coming back.
// The probe's own requests report nothing (a failed probe must not ask for
// another one at once: that would count one outage twice).
func (r *Registry) Troubles() <-chan event.GenericEvent { return r.troubles }

// reportTrouble tells the cluster controller that a request to cluster could
// not reach it: at most once per troubleInterval per cluster (the probe it
// causes fails too and must not cause another at once), and dropped when the
// controller is behind (it is probing already).
func (r *Registry) reportTrouble(cluster libv1beta1.ClusterID) {
	if cluster.IsCAPI() {
		return // Cluster API clusters are not probed
	}
	r.mu.Lock()
	r.unanswered[cluster] = true
	last, seen := r.lastTrouble[cluster]
	now := time.Now()
	if seen && now.Sub(last) < troubleInterval {
		r.mu.Unlock()
		return
	}
	r.lastTrouble[cluster] = now
	r.mu.Unlock()
	r.askProbe(cluster)
}

// reportAnswer is told of every request that reached cluster: the first one
// after a trouble asks for a probe at once (the cluster may be back), without
// waiting for the controller's retry interval.
func (r *Registry) reportAnswer(cluster libv1beta1.ClusterID) {
	r.mu.Lock()
	back := r.unanswered[cluster]
	delete(r.unanswered, cluster)
	r.mu.Unlock()
	if back && !cluster.IsCAPI() {
		r.askProbe(cluster)
	}
}

// askProbe queues a probe of cluster, dropped when the controller is behind
// (it is probing already).
func (r *Registry) askProbe(cluster libv1beta1.ClusterID) {
	sc := &libv1beta1.SveltosCluster{}
	sc.Namespace, sc.Name = cluster.Namespace, cluster.Name
	Nudge(r.troubles, sc)
}

// SubscribeReturns has fn told of every cluster that answers again after
// failed probes (see Returned). fn runs on the cluster controller's goroutine:
// it must return quickly (enqueue).
func (r *Registry) SubscribeReturns(fn func(libv1beta1.ClusterID)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.returnSubscribers = append(r.returnSubscribers, fn)
}

// Returned says that cluster answers again after failed probes; the cluster
// controller calls it once it has recorded the successful probe. The watches
// of the cluster start afresh (Watches.Rewatch: an informer that retried
// through the outage would wait out its backoff before listing again) and the
// subscribers are told (ReturnSource: what waits for the cluster runs now, not
// when its retry backoff ends).
func (r *Registry) Returned(cluster libv1beta1.ClusterID) {
	cluster = cluster.Normal()
	r.mu.Lock()
	delete(r.unanswered, cluster)
	subscribers := slices.Clone(r.returnSubscribers)
	r.mu.Unlock()
	r.watches.Rewatch(cluster)
	for _, fn := range subscribers {
		fn(cluster)
	}
}

// ReturnSource is a controller source that, when a cluster answers again after
// failed probes, brings back at once the requests requestsFor names for it,
// with their retry backoff reset: a reconcile that failed many times while the
// cluster was away may be waiting minutes (controller-runtime's per-item
// backoff grows to 1000 s) — the cluster's return, not that backoff, decides
// when it runs again.
func (r *Registry) ReturnSource(requestsFor func(context.Context, libv1beta1.ClusterID) []reconcile.Request) source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		r.SubscribeReturns(func(cluster libv1beta1.ClusterID) {
			for _, req := range requestsFor(ctx, cluster) {
				q.Forget(req) // the backoff restarts from its first step
				q.Add(req)    // and the request runs now, not when a waiting retry is due
			}
		})
		return nil
	})
}

// Watches is the facility through which every controller watches the
// registry's clusters.
func (r *Registry) Watches() *Watches { return r.watches }

// Subscribe has fn told of every connection opened or closed from now on. fn
// runs once the registry's lock is released, on the goroutine that opened or
// closed the connection: it must return quickly.
func (r *Registry) Subscribe(fn func(ConnectionEvent)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subscribers = append(r.subscribers, fn)
}

// publishLocked returns the function telling the subscribers of events; call
// it once the lock is released.
func (r *Registry) publishLocked(events ...ConnectionEvent) func() {
	subscribers := slices.Clone(r.subscribers)
	return func() {
		for _, ev := range events {
			for _, fn := range subscribers {
				fn(ev)
			}
		}
	}
}

// Connection is how Tugboat talks to one cluster. Its pieces are built on first
// use and shared by every caller until the kubeconfig changes or the cluster is
// forgotten, at which point the connection is closed. Its clients send through
// its endpoint's HTTP client and map kinds with its endpoint's REST mapper,
// counting their writes for this connection alone.
type Connection struct {
	// Cluster names the cluster.
	Cluster libv1beta1.ClusterID
	// Config is the client configuration built from the kubeconfig, for
	// callers that build clients of their own (its requests are counted and
	// reported as the connection's clients' are).
	Config *rest.Config

	scheme      *runtime.Scheme
	fingerprint string
	endpoint    *Endpoint
	// writes counts the write requests (anything but GET, LIST, WATCH) sent
	// through this connection: the cost measure of "unchanged costs nothing".
	writes atomic.Int64

	mu         sync.Mutex
	httpClient *http.Client
	client     client.Client
	dynamic    dynamic.Interface
	closed     bool
}

// Get returns the connection to a cluster, building it (or rebuilding it after
// a kubeconfig change) from its kubeconfig Secret: the one a SveltosCluster
// names, or the <name>-kubeconfig Secret Cluster API writes.
func (r *Registry) Get(ctx context.Context, cluster libv1beta1.ClusterID) (*Connection, error) {
	cluster = cluster.Normal()
	cfg, fingerprint, err := r.restConfig(ctx, cluster)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	var events []ConnectionEvent
	old, ok := r.conns[cluster]
	if ok && old.fingerprint == fingerprint {
		r.mu.Unlock()
		return old, nil
	}
	if ok {
		r.closeLocked(old)
		events = append(events, ConnectionEvent{Cluster: cluster, Connection: old, Closed: true})
	}
	c := &Connection{Cluster: cluster, scheme: r.scheme, fingerprint: fingerprint, endpoint: r.endpointLocked(cluster, cfg)}
	c.Config = countingConfig(c.endpoint.config, &c.writes, c.endpoint.reached)
	r.conns[cluster] = c
	publish := r.publishLocked(append(events, ConnectionEvent{Cluster: cluster, Connection: c})...)
	r.mu.Unlock()
	publish()
	return c, nil
}

// Forget closes and drops the connection to a cluster (it was deleted or is no longer ours).
func (r *Registry) Forget(cluster libv1beta1.ClusterID) {
	cluster = cluster.Normal()
	r.mu.Lock()
	c, ok := r.conns[cluster]
	if !ok {
		r.mu.Unlock()
		return
	}
	r.closeLocked(c)
	delete(r.conns, cluster)
	publish := r.publishLocked(ConnectionEvent{Cluster: cluster, Connection: c, Closed: true})
	r.mu.Unlock()
	publish()
}

// endpointLocked returns the endpoint cfg reaches, opening it when no open
// connection is on it, and counts cluster among its registrations.
func (r *Registry) endpointLocked(cluster libv1beta1.ClusterID, cfg *rest.Config) *Endpoint {
	key := endpointKey(cluster, cfg)
	e, ok := r.endpoints[key]
	if !ok {
		e = &Endpoint{registry: r, id: key, config: cfg, registrations: map[libv1beta1.ClusterID]bool{}}
		r.endpoints[key] = e
	}
	e.registrations[cluster] = true
	return e
}

// closeLocked closes c and releases its hold on its endpoint, freeing the
// endpoint when c was its last registration.
func (r *Registry) closeLocked(c *Connection) {
	c.close()
	e := c.endpoint
	delete(e.registrations, c.Cluster)
	if len(e.registrations) == 0 && r.endpoints[e.id] == e {
		delete(r.endpoints, e.id)
	}
}

// EndpointCount is the number of endpoints the open connections are on.
func (r *Registry) EndpointCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.endpoints)
}

// Known lists the clusters with an open connection, sorted.
func (r *Registry) Known() []libv1beta1.ClusterID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]libv1beta1.ClusterID, 0, len(r.conns))
	for k := range r.conns {
		out = append(out, k)
	}
	slices.SortFunc(out, selection.CompareIDs)
	return out
}

// IsManagement reports whether the SveltosCluster stands for the management cluster.
func (r *Registry) IsManagement(cluster libv1beta1.ClusterID) bool {
	return r.managementConfig != nil && cluster.Normal() == r.managementRef
}

// Management is the cluster that stands for the management cluster itself,
// reached with the manager's own credentials; ok is false when the registry
// was built without them.
func (r *Registry) Management() (cluster libv1beta1.ClusterID, ok bool) {
	return r.managementRef, r.managementConfig != nil
}

// Probe reads the cluster's /version through its connection.
func (r *Registry) Probe(ctx context.Context, cluster libv1beta1.ClusterID) (*version.Info, error) {
	conn, err := r.Get(ctx, cluster)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(conn.Config)
	cfg.Timeout = r.probeTimeout
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, configErrorf("building a client from the kubeconfig: %v", err)
	}
	// The probe's own request reports neither trouble nor answer: it is what
	// those reports ask for.
	raw, err := dc.RESTClient().Get().AbsPath("/version").Do(context.WithValue(ctx, probeRequest{}, true)).Raw()
	if err != nil {
		return nil, fmt.Errorf("reading /version from %s: %w", cfg.Host, err)
	}
	v := &version.Info{}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("reading /version from %s: %w", cfg.Host, err)
	}
	return v, nil
}

// probeRequest marks the context of a probe's request.
type probeRequest struct{}

// restConfig reads the kubeconfig of a cluster and returns the client
// configuration with a fingerprint of what it was built from.
func (r *Registry) restConfig(ctx context.Context, cluster libv1beta1.ClusterID) (*rest.Config, string, error) {
	if r.IsManagement(cluster) {
		return rest.CopyConfig(r.managementConfig), "management", nil
	}
	return restConfigFromSecret(ctx, r.mgmt, cluster, r.workloadIdentity, pullModeThrough(r.pullMode))
}

// kubeconfigData picks the kubeconfig out of its Secret: the named key, else
// "kubeconfig", else the only key (or, with several, the first in name order).
func kubeconfigData(secret *corev1.Secret, keyName string) (string, []byte, error) {
	where := secret.Namespace + "/" + secret.Name
	if keyName != "" {
		v, ok := secret.Data[keyName]
		if !ok {
			return "", nil, configErrorf("kubeconfig Secret %s has no key %q", where, keyName)
		}
		return keyName, v, nil
	}
	if v, ok := secret.Data[libv1beta1.KubeconfigSecretKey]; ok {
		return libv1beta1.KubeconfigSecretKey, v, nil
	}
	if len(secret.Data) == 0 {
		return "", nil, configErrorf("kubeconfig Secret %s is empty", where)
	}
	keys := make([]string, 0, len(secret.Data))
	for k := range secret.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0], secret.Data[keys[0]], nil
}

// Client returns a client for the cluster (reads go straight to the API
// server), sending through the endpoint's HTTP client with the endpoint's
// REST mapper.
func (c *Connection) Client() (client.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("connection to %s is closed", c.Cluster)
	}
	if c.client == nil {
		mapper, err := c.endpoint.RESTMapper()
		if err != nil {
			return nil, fmt.Errorf("connecting to %s: %w", c.Cluster, err)
		}
		hc, err := c.httpClientLocked()
		if err != nil {
			return nil, err
		}
		cl, err := client.New(c.Config, client.Options{Scheme: c.scheme, Mapper: mapper, HTTPClient: hc})
		if err != nil {
			return nil, fmt.Errorf("creating client for %s: %w", c.Cluster, err)
		}
		c.client = cl
	}
	return c.client, nil
}

// Dynamic returns a dynamic client for the cluster.
func (c *Connection) Dynamic() (dynamic.Interface, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("connection to %s is closed", c.Cluster)
	}
	if c.dynamic == nil {
		hc, err := c.httpClientLocked()
		if err != nil {
			return nil, err
		}
		d, err := dynamic.NewForConfigAndClient(c.Config, hc)
		if err != nil {
			return nil, fmt.Errorf("creating dynamic client for %s: %w", c.Cluster, err)
		}
		c.dynamic = d
	}
	return c.dynamic, nil
}

// httpClientLocked is the connection's HTTP client: the endpoint's transport,
// counting this connection's writes.
func (c *Connection) httpClientLocked() (*http.Client, error) {
	if c.httpClient != nil {
		return c.httpClient, nil
	}
	shared, err := c.endpoint.HTTPClient()
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.Cluster, err)
	}
	c.httpClient = &http.Client{Transport: countingWrites(shared.Transport, &c.writes), Timeout: shared.Timeout}
	return c.httpClient, nil
}

// RESTMapper returns the cluster's (lazily discovered) REST mapper: its
// endpoint's, shared by every registration of the same server and credentials.
func (c *Connection) RESTMapper() (meta.RESTMapper, error) {
	if c.Closed() {
		return nil, fmt.Errorf("connection to %s is closed", c.Cluster)
	}
	m, err := c.endpoint.RESTMapper()
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.Cluster, err)
	}
	return m, nil
}

// Endpoint is the server and credentials the connection reaches, shared with
// the other registrations that resolve to them.
func (c *Connection) Endpoint() *Endpoint { return c.endpoint }

// Writes is the number of write requests sent to the cluster through this connection.
func (c *Connection) Writes() int64 { return c.writes.Load() }

// countingConfig returns a copy of cfg whose transport counts write requests
// and calls reach(false) when a request cannot reach the server at all
// (refused, reset, timed out — not a cancelled request), reach(true) when the
// server answered (whatever the status): watches retry failures quietly, so
// the transport is where the manager first learns that a cluster went away
// and that it is back. A probe's requests are not reported.
func countingConfig(cfg *rest.Config, writes *atomic.Int64, reach func(reached bool)) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			countWrite(req, writes)
			resp, err := rt.RoundTrip(req)
			switch {
			case req.Context().Value(probeRequest{}) != nil:
			case err == nil:
				reach(true)
			case req.Context().Err() == nil && !errors.Is(err, context.Canceled):
				reach(false)
			}
			return resp, err
		})
	})
	return out
}

// countingWrites wraps rt to count the write requests sent through it.
func countingWrites(rt http.RoundTripper, writes *atomic.Int64) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		countWrite(req, writes)
		return rt.RoundTrip(req)
	})
}

func countWrite(req *http.Request, writes *atomic.Int64) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		writes.Add(1)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Closed reports whether the connection has been replaced or forgotten.
func (c *Connection) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Connection) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.client, c.dynamic, c.httpClient = nil, nil, nil
}
