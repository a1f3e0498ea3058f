package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// Endpoint is one API server as reached with one set of credentials: the
// registrations whose kubeconfigs resolve to the same server URL, CA, TLS
// client identity and credentials (token, client certificate, basic auth,
// exec plugin command, arguments and environment, auth provider,
// impersonation) share it. It holds what they can share: one HTTP client (one
// transport, one pool of TCP connections), one REST mapper (discovery runs
// once), one dynamic client, and through Watches one informer per watched
// kind and label selector. Different credentials for the same server make
// different endpoints: a less privileged kubeconfig never sees objects
// through another's informer.
//
// The registry frees an endpoint when the last registration on it goes.
type Endpoint struct {
	registry *Registry
	id       string
	// config is the client configuration the endpoint was built from, as the
	// first registration's kubeconfig gave it; the others resolve to the same.
	config *rest.Config

	// registrations (under registry.mu) are the clusters whose open
	// connection is on this endpoint.
	registrations map[libv1beta1.ClusterID]bool

	// reads and watches count the requests sent through the endpoint's shared
	// HTTP client (watches: requests with watch=true; reads: every other GET).
	reads, watches atomic.Int64
	// troubled is set when a request could not reach the server, cleared by
	// the first one answered after that.
	troubled atomic.Bool

	mu         sync.Mutex
	httpClient *http.Client
	mapper     meta.RESTMapper
	dynamic    dynamic.Interface

	// timesMu guards the times below; it is never held across a request.
	timesMu sync.Mutex
	// lastTrouble is when a request last could not reach the server or was
	// answered with a server error; rewatchedAt is when Watches last started
	// the endpoint's informers afresh (see Watches.Rewatch).
	lastTrouble time.Time
	rewatchedAt time.Time
}

// EndpointRequests counts the requests sent through an endpoint's shared
// HTTP client (the informers, the REST mapper's discovery, the connections'
// clients).
type EndpointRequests struct {
	// Watches are the requests with watch=true: one per informer (re)start.
	Watches int64
	// Reads are the other GETs: lists, gets and discovery.
	Reads int64
}

// ID names the endpoint: its server and a digest of its credentials.
func (e *Endpoint) ID() string { return e.id }

// Host is the endpoint's server URL.
func (e *Endpoint) Host() string { return e.config.Host }

// Requests is what the endpoint's shared HTTP client sent so far.
func (e *Endpoint) Requests() EndpointRequests {
	return EndpointRequests{Watches: e.watches.Load(), Reads: e.reads.Load()}
}

// Registrations lists the clusters with an open connection on the endpoint, sorted.
func (e *Endpoint) Registrations() []libv1beta1.ClusterID {
	e.registry.mu.Lock()
	defer e.registry.mu.Unlock()
	return e.registrationsLocked()
}

func (e *Endpoint) registrationsLocked() []libv1beta1.ClusterID {
	out := make([]libv1beta1.ClusterID, 0, len(e.registrations))
	for id := range e.registrations {
		out = append(out, id)
	}
	slices.SortFunc(out, selection.CompareIDs)
	return out
}

// HTTPClient is the endpoint's shared HTTP client: client-go's transport for
// its configuration (TLS, credentials, impersonation), counting requests and
// reporting reachability for every registration on the endpoint.
func (e *Endpoint) HTTPClient() (*http.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.httpClientLocked()
}

func (e *Endpoint) httpClientLocked() (*http.Client, error) {
	if e.httpClient != nil {
		return e.httpClient, nil
	}
	rt, err := rest.TransportFor(e.config)
	if err != nil {
		return nil, fmt.Errorf("creating HTTP transport for %s: %w", e.config.Host, err)
	}
	e.httpClient = &http.Client{Transport: e.observing(rt), Timeout: e.config.Timeout}
	return e.httpClient, nil
}

// RESTMapper is the endpoint's REST mapper, discovering lazily, shared by
// every registration on the endpoint.
func (e *Endpoint) RESTMapper() (meta.RESTMapper, error) {
	return madeOnce(e, &e.mapper, "REST mapper", apiutil.NewDynamicRESTMapper)
}

// dynamicClient is the dynamic client of the endpoint's informers.
func (e *Endpoint) dynamicClient() (dynamic.Interface, error) {
	return madeOnce(e, &e.dynamic, "dynamic client", func(cfg *rest.Config, hc *http.Client) (dynamic.Interface, error) {
		return dynamic.NewForConfigAndClient(cfg, hc)
	})
}

// madeOnce returns *slot, made the first time by build from the endpoint's
// configuration and shared HTTP client; what names it in the error.
func madeOnce[T comparable](e *Endpoint, slot *T, what string, build func(*rest.Config, *http.Client) (T, error)) (T, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var none T
	if *slot != none {
		return *slot, nil
	}
	hc, err := e.httpClientLocked()
	if err != nil {
		return none, err
	}
	made, err := build(e.config, hc)
	if err != nil {
		return none, fmt.Errorf("creating %s for %s: %w", what, e.config.Host, err)
	}
	*slot = made
	return made, nil
}

// observing wraps the endpoint's transport: it counts reads and watches and
// reports whether the server could be reached (see reached).
func (e *Endpoint) observing(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodGet {
			if req.URL.Query().Get("watch") == "true" {
				e.watches.Add(1)
			} else {
				e.reads.Add(1)
			}
		}
		resp, err := rt.RoundTrip(req)
		switch {
		case req.Context().Value(probeRequest{}) != nil:
		case err == nil:
			if resp.StatusCode >= http.StatusInternalServerError {
				e.sawTrouble()
			}
			e.reached(true)
		case req.Context().Err() == nil && !errors.Is(err, context.Canceled):
			e.reached(false)
		}
		return resp, err
	})
}

// reached is told of every request on the endpoint, by any of its
// registrations or its shared informers: whether it reached the server. The
// endpoint is one server with one set of credentials, so what one request
// learns holds for every registration on it: a request that could not reach
// the server is reported as trouble for each of them, and the first one
// answered after that as an answer for each (each registration's own rate
// limit applies).
func (e *Endpoint) reached(ok bool) {
	if ok {
		if !e.troubled.Load() || !e.troubled.CompareAndSwap(true, false) {
			return
		}
		for _, id := range e.Registrations() {
			e.registry.reportAnswer(id)
		}
		return
	}
	e.sawTrouble()
	e.troubled.Store(true)
	for _, id := range e.Registrations() {
		e.registry.reportTrouble(id)
	}
}

func (e *Endpoint) sawTrouble() {
	e.timesMu.Lock()
	defer e.timesMu.Unlock()
	e.lastTrouble = time.Now()
}

// endpointKey is the identity of the endpoint a configuration reaches: a
// digest of everything that decides which server is reached and as whom. A
// configuration carrying functions (a custom dialer, proxy, transport or
// certificate callback, an auth persister, an exec plugin given cluster
// information) cannot be compared: it gets an endpoint of its own, named
// after the registration.
func endpointKey(cluster libv1beta1.ClusterID, cfg *rest.Config) string {
	if cfg.Dial != nil || cfg.Proxy != nil || cfg.WrapTransport != nil || cfg.Transport != nil ||
		cfg.AuthConfigPersister != nil || cfg.ExecProvider != nil && cfg.ExecProvider.Config != nil {
		return cfg.Host + " registration " + cluster.String()
	}
	identity := struct {
		Host, APIPath      string
		TLS                rest.TLSClientConfig
		Username, Password string
		BearerToken        string
		BearerTokenFile    string
		Impersonate        rest.ImpersonationConfig
		AuthProvider       *clientcmdapi.AuthProviderConfig
		Exec               *clientcmdapi.ExecConfig
		UserAgent          string
		DisableCompression bool
		ContentType        string
		AcceptContentTypes string
		QPS                float32
		Burst              int
		Timeout            time.Duration
	}{
		Host: cfg.Host, APIPath: cfg.APIPath, TLS: cfg.TLSClientConfig,
		Username: cfg.Username, Password: cfg.Password,
		BearerToken: cfg.BearerToken, BearerTokenFile: cfg.BearerTokenFile,
		Impersonate: cfg.Impersonate, AuthProvider: cfg.AuthProvider, Exec: cfg.ExecProvider,
		UserAgent: cfg.UserAgent, DisableCompression: cfg.DisableCompression,
		ContentType: cfg.ContentType, AcceptContentTypes: cfg.AcceptContentTypes,
		QPS: cfg.QPS, Burst: cfg.Burst, Timeout: cfg.Timeout,
	}
	raw, err := json.Marshal(identity)
	if err != nil {
		return cfg.Host + " registration " + cluster.String()
	}
	sum := sha256.Sum256(raw)
	return cfg.Host + " " + hex.EncodeToString(sum[:8])
}
