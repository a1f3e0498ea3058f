package pullmode

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// CASecretName is the Secret, in the manager's namespace, holding the CA
	// of the hub's own serving certificate: key ca.crt (what agents trust) and
	// ca.key (so that every replica signs with the same CA).
	CASecretName = "tugboat-pullmode-hub"
	// CACertKey is the key of the CA certificate in that Secret (and in the
	// agent's Secret).
	CACertKey = "ca.crt"
	// caKeyKey is the key of the CA's private key.
	caKeyKey = "ca.key"
)

// servingValidity is how long the hub's own serving certificate is valid; it
// is made afresh at every start.
const servingValidity = 2 * 365 * 24 * time.Hour

// caValidity is how long a generated CA is valid.
const caValidity = 10 * 365 * 24 * time.Hour

// tlsConfig is the hub's TLS configuration: the given certificate, or one of
// its own signed by the CA of the CA Secret (made and stored when missing).
func (h *Hub) tlsConfig(ctx context.Context) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if h.Options.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(h.Options.TLSCertFile, h.Options.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("pull-mode hub certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
		return cfg, nil
	}
	caCert, caKey, err := h.ensureCA(ctx)
	if err != nil {
		return nil, err
	}
	cert, err := servingCertificate(caCert, caKey, h.Options.Hosts)
	if err != nil {
		return nil, fmt.Errorf("pull-mode hub certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// ensureCA reads the CA of the CA Secret, creating the Secret with a new CA
// when it does not exist (another replica may create it first: then its CA is
// read).
func (h *Hub) ensureCA(ctx context.Context) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	reader := h.Reader
	if reader == nil {
		reader = h.Client
	}
	key := types.NamespacedName{Namespace: h.Options.Namespace, Name: CASecretName}
	for attempt := 0; attempt < 3; attempt++ {
		secret := &corev1.Secret{}
		err := reader.Get(ctx, key, secret)
		if err == nil {
			cert, caKey, perr := parseCA(secret.Data[CACertKey], secret.Data[caKeyKey])
			if perr == nil {
				return cert, caKey, nil
			}
			// Unusable: replace it with a new CA.
			certPEM, keyPEM, cert, caKey, gerr := newCA()
			if gerr != nil {
				return nil, nil, gerr
			}
			secret.Data = map[string][]byte{CACertKey: certPEM, caKeyKey: keyPEM}
			if err := h.Client.Update(ctx, secret); err != nil {
				if apierrors.IsConflict(err) {
					continue
				}
				return nil, nil, fmt.Errorf("replacing the unusable pull-mode CA in Secret %s (%v): %w", key, perr, err)
			}
			h.Log.Info("replaced the unusable pull-mode hub CA", "secret", key.String(), "problem", perr.Error())
			return cert, caKey, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("reading the pull-mode hub CA Secret %s: %w", key, err)
		}
		certPEM, keyPEM, cert, caKey, err := newCA()
		if err != nil {
			return nil, nil, err
		}
		ns := &corev1.Namespace{}
		ns.Name = key.Namespace
		if err := h.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, nil, fmt.Errorf("creating the namespace %s of the pull-mode hub CA Secret: %w", key.Namespace, err)
		}
		secret = &corev1.Secret{Data: map[string][]byte{CACertKey: certPEM, caKeyKey: keyPEM}}
		secret.Namespace, secret.Name = key.Namespace, key.Name
		secret.Labels = map[string]string{"app.kubernetes.io/managed-by": "tugboat"}
		if err := h.Client.Create(ctx, secret); err != nil {
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			return nil, nil, fmt.Errorf("writing the pull-mode hub CA Secret %s: %w", key, err)
		}
		h.Log.Info("created the pull-mode hub CA", "secret", key.String())
		return cert, caKey, nil
	}
	return nil, nil, fmt.Errorf("the pull-mode hub CA Secret %s kept changing while it was read", key)
}

// ReadCA returns the CA certificate (PEM) agents trust, from the CA Secret of
// namespace: what `tug register cluster --pull-mode` hands to the agent.
func ReadCA(ctx context.Context, reader client.Reader, namespace string) ([]byte, error) {
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: namespace, Name: CASecretName}
	if err := reader.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("reading the pull-mode hub CA Secret %s: %w", key, err)
	}
	if len(secret.Data[CACertKey]) == 0 {
		return nil, fmt.Errorf("the pull-mode hub CA Secret %s has no key %s", key, CACertKey)
	}
	return secret.Data[CACertKey], nil
}

func parseCA(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, err := parsePEM(certPEM, CACertKey, "certificate", x509.ParseCertificate)
	if err != nil {
		return nil, nil, err
	}
	key, err := parsePEM(keyPEM, caKeyKey, "key", x509.ParseECPrivateKey)
	if err != nil {
		return nil, nil, err
	}
	if time.Now().After(cert.NotAfter) {
		return nil, nil, fmt.Errorf("%s expired on %s", CACertKey, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return cert, key, nil
}

// parsePEM parses the first PEM block of data, the value of the Secret key
// name holding a what, with parse.
func parsePEM[T any](data []byte, name, what string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	block, _ := pem.Decode(data)
	if block == nil {
		return zero, fmt.Errorf("%s holds no PEM %s", name, what)
	}
	v, err := parse(block.Bytes)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

func newCA() (certPEM, keyPEM []byte, cert *x509.Certificate, key *ecdsa.PrivateKey, err error) {
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "tugboat-pullmode-hub-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("creating the pull-mode hub CA: %w", err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), cert, key, nil
}

// servingCertificate is a certificate for hosts (plus localhost and
// 127.0.0.1) signed by the CA.
func servingCertificate(ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "tugboat-pullmode-hub"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(servingValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
