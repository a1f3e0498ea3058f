package events_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/localkube"
)

// Every authentication method of the sveltos-nats Secret connects to a real
// NATS server that demands it, and the wrong credentials do not.
func TestNATSSecretAuthentication(t *testing.T) {
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	ca, serverCert, clientCert, clientKey := testPKI(t)

	for _, tc := range []struct {
		name   string
		server localkube.NATSOptions
		good   map[string]any
		bad    map[string]any
	}{
		{"user and password", localkube.NATSOptions{User: "ann", Password: "pw"},
			map[string]any{"user": map[string]string{"user": "ann", "password": "pw"}},
			map[string]any{"user": map[string]string{"user": "ann", "password": "wrong"}}},
		{"token", localkube.NATSOptions{Token: "s3cr3t"},
			map[string]any{"token": "s3cr3t"}, map[string]any{"token": "guess"}},
		{"nkey", localkube.NATSOptions{NKeys: []string{pub}},
			map[string]any{"nkeySeed": string(seed)}, map[string]any{}},
		{"mutual TLS", localkube.NATSOptions{TLS: &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}},
			map[string]any{"rootCA": string(ca.pem), "clientCert": map[string]string{"certPem": string(clientCert), "keyPem": string(clientKey)}},
			map[string]any{"rootCA": string(ca.pem)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := localkube.StartNATS(tc.server)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Stop()
			secret := func(auth map[string]any) []byte {
				b, _ := json.Marshal(map[string]any{"nats": map[string]any{"configuration": map[string]any{
					"url": srv.URL(), "subjects": []string{"x"}, "authorization": auth}}})
				return b
			}
			nc, err := events.DialNATSSecret(secret(tc.good))
			if err != nil {
				t.Fatalf("connecting with good credentials: %v", err)
			}
			nc.Close()
			if nc, err := events.DialNATSSecret(secret(tc.bad)); err == nil {
				nc.Close()
				t.Fatal("connected with bad credentials")
			}
		})
	}
}

// A sveltos-nats Secret that cannot work says why.
func TestUnitNATSSecretErrors(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{`{}`, "neither nats nor jetstream"},
		{`{"nats": {"configuration": {"url": "nats://x:4222"}}}`, "subjects is empty"},
		{`{"nats": {"configuration": {"subjects": ["a"]}}}`, "url is empty"},
		{`{"nats": {"configuration": {"url": "nats://x:4222", "subjects": ["a"], "authorization": {"token": "t", "nkeySeed": "s"}}}}`, "set one of"},
		{`{"nats": {"configuration": {"url": "nats://x:4222", "subjects": ["a"], "authorisation": {}}}}`, "unknown field"},
		{`{"nats": {"configuration": {"url": "nats://x:4222", "subjects": ["a"], "authorization": {"rootCA": "not pem"}}}}`, "neither PEM nor base64"},
	} {
		if _, err := events.DialNATSSecret([]byte(tc.value)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.value, err, tc.want)
		}
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	pool *x509.CertPool
}

// testPKI makes a CA, a server certificate for 127.0.0.1 and a client certificate (PEM).
func testPKI(t *testing.T) (ca testCA, server tls.Certificate, clientCert, clientKey []byte) {
	t.Helper()
	issue := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		keyDER, _ := x509.MarshalECPrivateKey(key)
		return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	now := time.Now()
	caCert, caKey, caPEM, _ := issue(&x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	_, _, srvPEM, srvKey := issue(&x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, caCert, caKey)
	_, _, clientCert, clientKey = issue(&x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "tugboat"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, caCert, caKey)
	server, err := tls.X509KeyPair(srvPEM, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return testCA{cert: caCert, key: caKey, pem: caPEM, pool: pool}, server, clientCert, clientKey
}
