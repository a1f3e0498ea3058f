package pullmode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/yamux"
	"k8s.io/client-go/rest"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/httpserve"
)

// Agent is the managed cluster's side of pull mode: it connects to the hub
// as the agent of Cluster and serves the hub's requests by proxying them to
// the local API server with Local's credentials. It reconnects, with capped
// exponential backoff, whenever the connection ends or fails.
type Agent struct {
	// HubURL is the hub's base URL (https://host:port).
	HubURL string
	// CAData is the CA (PEM) the hub's certificate is checked against; empty
	// uses the system's pool.
	CAData []byte
	// Token is the management-cluster ServiceAccount token presented to the
	// hub; TokenFile, when set, is read instead at every connection (a
	// rotated token is picked up).
	Token     string
	TokenFile string
	// Cluster is the SveltosCluster this agent serves.
	Cluster libv1beta1.ClusterID
	// Local reaches the managed cluster's API server.
	Local *rest.Config
	// MaxBackoff caps the wait between two connection attempts (default 30s).
	MaxBackoff time.Duration
	// Log receives connections, refusals and disconnections.
	Log logr.Logger
}

// firstBackoff is the wait after the first failed attempt.
const firstBackoff = 500 * time.Millisecond

// Run connects and serves until ctx ends; it returns nil then, or an error
// when its configuration cannot work at all.
func (a *Agent) Run(ctx context.Context) error {
	if a.Log.GetSink() == nil {
		a.Log = logr.Discard()
	}
	maxBackoff := a.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 30 * time.Second
	}
	proxy, err := a.localProxy()
	if err != nil {
		return err
	}
	connectURL, err := a.connectURL()
	if err != nil {
		return err
	}
	hubClient, err := a.hubClient()
	if err != nil {
		return err
	}
	log := a.Log.WithValues("cluster", a.Cluster.Namespace+"/"+a.Cluster.Name, "hub", a.HubURL)
	backoff := firstBackoff
	for ctx.Err() == nil {
		sess, err := a.connect(ctx, hubClient, connectURL)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Info("connecting to the hub failed", "error", err.Error(), "retryIn", backoff.String())
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = firstBackoff
		log.Info("connected to the hub")
		a.serve(ctx, sess, proxy)
		if ctx.Err() == nil {
			log.Info("the connection to the hub ended; connecting again")
		}
	}
	return nil
}

func (a *Agent) connectURL() (string, error) {
	u, err := url.Parse(a.HubURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("hub URL %q: want https://host:port", a.HubURL)
	}
	if a.Cluster.Namespace == "" || a.Cluster.Name == "" {
		return "", fmt.Errorf("the agent needs the namespace and name of its SveltosCluster")
	}
	return strings.TrimSuffix(u.String(), "/") + ConnectPath + url.PathEscape(a.Cluster.Namespace) + "/" + url.PathEscape(a.Cluster.Name), nil
}

// hubClient is the HTTP/1.1 client the agent connects with (an upgrade
// cannot go over HTTP/2).
func (a *Agent) hubClient() (*http.Client, error) {
	tlsConfig, ok := httpserve.ClientTLS(a.CAData)
	if !ok {
		return nil, fmt.Errorf("the hub CA holds no PEM certificate")
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second, // the hub answers once it reviewed the token
		ForceAttemptHTTP2:     false,
	}}, nil
}

func (a *Agent) token() (string, error) {
	if a.TokenFile == "" {
		if a.Token == "" {
			return "", fmt.Errorf("the agent has no token")
		}
		return a.Token, nil
	}
	raw, err := os.ReadFile(a.TokenFile)
	if err != nil {
		return "", fmt.Errorf("reading the agent's token: %w", err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// connect upgrades a connection to the hub and starts the agent's session on it.
func (a *Agent) connect(ctx context.Context, hubClient *http.Client, connectURL string) (*yamux.Session, error) {
	token, err := a.token()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, connectURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", UpgradeProtocol)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hubClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &RefusedError{Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		_ = resp.Body.Close()
		return nil, errors.New("the hub's upgraded connection cannot be written")
	}
	sess, err := yamux.Server(conn, sessionConfig())
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return sess, nil
}

// RefusedError is the hub's answer to a connection it did not accept.
type RefusedError struct {
	Status  int
	Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the hub answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// serve answers the hub's streams until the session ends or ctx does.
func (a *Agent) serve(ctx context.Context, sess *yamux.Session, proxy http.Handler) {
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 30 * time.Second}
	stop := context.AfterFunc(ctx, func() { _ = sess.Close() })
	defer stop()
	_ = srv.Serve(sess) // returns once the session is closed
	_ = srv.Close()
	_ = sess.Close()
}

// localProxy forwards the hub's requests to the local API server with the
// agent's own credentials; watches stream (every write is flushed). Upgrade
// requests (exec, attach, port-forward) are refused.
func (a *Agent) localProxy() (http.Handler, error) {
	if a.Local == nil {
		return nil, fmt.Errorf("the agent needs a configuration of its local API server")
	}
	transport, err := rest.TransportFor(a.Local)
	if err != nil {
		return nil, fmt.Errorf("the local API server's configuration: %w", err)
	}
	host := a.Local.Host
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	target, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("the local API server's address %q: %w", a.Local.Host, err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Del("Authorization") // the transport adds the agent's own credentials
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "the pull-mode agent could not reach its API server: "+err.Error(), http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Upgrade") != "" {
			http.Error(w, "the pull-mode agent does not carry upgraded connections (exec, attach, port-forward)", http.StatusNotImplemented)
			return
		}
		rp.ServeHTTP(w, req)
	}), nil
}
