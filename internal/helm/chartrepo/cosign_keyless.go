package chartrepo

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/tugboat-dev/tugboat/internal/helm"
)

// Keyless Cosign signing as cosign sign does it against Fulcio and Rekor, with
// a certificate authority and a transparency log made in the test: FulcioCA
// issues short-lived code-signing certificates naming an OIDC identity,
// RekorLog signs the entry timestamp of a recorded signature, and
// CosignSignKeyless pushes the signature layer with its certificate, chain and
// Rekor bundle annotations.

// FulcioCA is a root CA and an intermediate that issues signing certificates.
type FulcioCA struct {
	root, intermediate       *x509.Certificate
	intermediateKey          crypto.Signer
	RootPEM, IntermediatePEM []byte
}

// NewFulcioCA makes a root and an intermediate CA valid from notBefore to notAfter.
func NewFulcioCA(name string, notBefore, notAfter time.Time) (*FulcioCA, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rootTmpl := caTemplate(name+" root", notBefore, notAfter)
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("create root: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	interTmpl := caTemplate(name+" intermediate", notBefore, notAfter)
	interTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, root, interKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("create intermediate: %w", err)
	}
	inter, err := x509.ParseCertificate(interDER)
	if err != nil {
		return nil, err
	}
	return &FulcioCA{
		root: root, intermediate: inter, intermediateKey: interKey,
		RootPEM:         pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}),
		IntermediatePEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: interDER}),
	}, nil
}

func caTemplate(cn string, notBefore, notAfter time.Time) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"sigstore-test"}, CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// KeylessSigner is an ephemeral key and the certificate the CA issued for it.
type KeylessSigner struct {
	Key crypto.Signer
	// CertPEM is the leaf; ChainPEM the intermediate and the root.
	CertPEM, ChainPEM []byte
}

// Issue certifies a fresh ECDSA P-256 key for the OIDC identity (issuer URL;
// subject an email when it holds "@" and no "://", a URI otherwise), valid from
// notBefore to notAfter, for code signing — as Fulcio does.
func (ca *FulcioCA) Issue(issuer, subject string, notBefore, notAfter time.Time) (*KeylessSigner, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	issuerDER, err := asn1.MarshalWithParams(issuer, "utf8")
	if err != nil {
		return nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		NotBefore:       notBefore,
		NotAfter:        notAfter,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{{Id: helm.OIDFulcioIssuer(), Value: issuerDER}, {Id: helm.OIDFulcioIssuerLegacy(), Value: []byte(issuer)}},
	}
	if strings.Contains(subject, "@") && !strings.Contains(subject, "://") {
		tmpl.EmailAddresses = []string{subject}
	} else {
		u, err := url.Parse(subject)
		if err != nil {
			return nil, err
		}
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.intermediate, key.Public(), ca.intermediateKey)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	return &KeylessSigner{
		Key:      key,
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		ChainPEM: append(append([]byte{}, ca.IntermediatePEM...), ca.RootPEM...),
	}, nil
}

// RekorLog is a transparency log's signing key.
type RekorLog struct {
	key          crypto.Signer
	PublicKeyPEM []byte
	LogID        string
	entries      int64
}

// NewRekorLog makes a log with a fresh ECDSA P-256 key, as Rekor's.
func NewRekorLog() (*RekorLog, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pub, err := PublicKeyPEM(key.Public())
	if err != nil {
		return nil, err
	}
	id, err := helm.RekorLogID(key.Public())
	if err != nil {
		return nil, err
	}
	return &RekorLog{key: key, PublicKeyPEM: pub, LogID: id}, nil
}

// Record records a hashedrekord entry of sig over payload by the certificate
// certPEM at integratedTime and returns the bundle cosign stores (JSON).
// alter, when not nil, changes the entry before the log signs it (a log that
// recorded something else than what the layer carries).
func (l *RekorLog) Record(payload, sig, certPEM []byte, integratedTime time.Time, alter func(*helm.RekorHashedRekord)) (string, error) {
	var entry helm.RekorHashedRekord
	entry.APIVersion, entry.Kind = "0.0.1", "hashedrekord"
	sum := sha256.Sum256(payload)
	entry.Spec.Data.Hash.Algorithm = "sha256"
	entry.Spec.Data.Hash.Value = hex.EncodeToString(sum[:])
	entry.Spec.Signature.Content = sig
	entry.Spec.Signature.PublicKey.Content = certPEM
	if alter != nil {
		alter(&entry)
	}
	body, err := json.Marshal(entry)
	if err != nil {
		return "", err
	}
	l.entries++
	b := helm.RekorBundle{Payload: helm.RekorBundlePayload{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: integratedTime.Unix(),
		LogID:          l.LogID,
		LogIndex:       l.entries,
	}}
	canonical, err := json.Marshal(b.Payload)
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256(canonical)
	if b.SignedEntryTimestamp, err = l.key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		return "", err
	}
	out, err := json.Marshal(b)
	return string(out), err
}

// KeylessSignature is how CosignSignKeyless signs: the certified key, the log
// recording the signature and when it does.
type KeylessSignature struct {
	Signer         *KeylessSigner
	Log            *RekorLog
	IntegratedTime time.Time
	// AlterEntry, when not nil, changes the entry the log records (RekorLog.Record).
	AlterEntry func(*helm.RekorHashedRekord)
}

// CosignSignKeyless stores in chart's repository, under the signature tag of
// manifestDigest, a keyless Cosign signature over a payload naming
// signedDigest: signed with k.Signer's key, its certificate and chain and the
// bundle of k.Log in the layer's annotations.
func (s *Server) CosignSignKeyless(ctx context.Context, chart, manifestDigest, signedDigest string, k KeylessSignature) error {
	payload, err := s.signingPayload(chart, signedDigest)
	if err != nil {
		return err
	}
	sig, err := signPayload(k.Signer.Key, payload)
	if err != nil {
		return err
	}
	bundle, err := k.Log.Record(payload, sig, k.Signer.CertPEM, k.IntegratedTime, k.AlterEntry)
	if err != nil {
		return err
	}
	return s.pushSignature(ctx, chart, manifestDigest, payload, map[string]string{
		helm.CosignSignatureAnnotation:   base64.StdEncoding.EncodeToString(sig),
		helm.CosignCertificateAnnotation: string(k.Signer.CertPEM),
		helm.CosignChainAnnotation:       string(k.Signer.ChainPEM),
		helm.CosignBundleAnnotation:      bundle,
	})
}
