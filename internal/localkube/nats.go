package localkube

import (
	"crypto/tls"
	"fmt"
	"os"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// NATSOptions configure a local NATS server.
type NATSOptions struct {
	// Host and Port to listen on (default 127.0.0.1 and a free port).
	Host string
	Port int
	// StoreDir is where JetStream keeps its streams; JetStream is enabled when
	// set. The same folder keeps them across a restart of the server.
	StoreDir string
	// One way to authenticate clients, at most: User/Password, Token, or the
	// public NKeys allowed to connect.
	User, Password string
	Token          string
	NKeys          []string
	// TLS, when set, makes the server speak TLS; with ClientCAs and
	// ClientAuth set there, clients must present certificates (mutual TLS).
	TLS *tls.Config
}

// NATSServer is a real NATS server (github.com/nats-io/nats-server/v2) running
// in this process: for tests and the local platform.
type NATSServer struct {
	server *natsserver.Server
}

// StartNATS starts a NATS server and waits until it accepts connections.
func StartNATS(opts NATSOptions) (*NATSServer, error) {
	o := &natsserver.Options{
		Host:          opts.Host,
		Port:          opts.Port,
		NoLog:         true,
		NoSigs:        true,
		Username:      opts.User,
		Password:      opts.Password,
		Authorization: opts.Token,
		MaxPayload:    1 << 20,
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = -1 // a free port
	}
	if opts.StoreDir != "" {
		if err := os.MkdirAll(opts.StoreDir, 0o755); err != nil {
			return nil, fmt.Errorf("localkube: NATS store: %w", err)
		}
		o.JetStream, o.StoreDir = true, opts.StoreDir
	}
	for _, k := range opts.NKeys {
		o.Nkeys = append(o.Nkeys, &natsserver.NkeyUser{Nkey: k})
	}
	if opts.TLS != nil {
		o.TLS, o.TLSConfig = true, opts.TLS
		o.TLSVerify = opts.TLS.ClientAuth == tls.RequireAndVerifyClientCert
		o.TLSTimeout = 5
	}
	s, err := natsserver.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("localkube: NATS server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("localkube: the NATS server did not accept connections within 30s")
	}
	return &NATSServer{server: s}, nil
}

// URL is the server's client URL (nats://host:port; tls://host:port with TLS).
func (n *NATSServer) URL() string { return n.server.ClientURL() }

// Stop shuts the server down and waits until it has.
func (n *NATSServer) Stop() {
	n.server.Shutdown()
	n.server.WaitForShutdown()
}
