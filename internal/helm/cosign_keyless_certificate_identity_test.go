package helm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The identity of a Fulcio certificate: the issuer from the current extension
// (a DER UTF8String), else from the legacy one (the raw string), the current
// one winning when both are present; the subject from the email SAN, else the
// URI SAN. A certificate with neither extension, or without an email or URI
// SAN, has no identity and says why.
func TestUnitCertificateIdentity(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	utf8 := func(s string) []byte {
		b, err := asn1.MarshalWithParams(s, "utf8")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	repo, _ := url.Parse("https://github.com/org/repo/.github/workflows/release.yaml@refs/tags/v1")
	cert := func(exts []pkix.Extension, emails []string, uris []*url.URL) *x509.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Minute),
			ExtraExtensions: exts, EmailAddresses: emails, URIs: uris,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	current := pkix.Extension{Id: OIDFulcioIssuer(), Value: utf8("https://token.actions.githubusercontent.com")}
	legacy := pkix.Extension{Id: OIDFulcioIssuerLegacy(), Value: []byte("https://accounts.google.com")}
	for _, c := range []struct {
		name                 string
		cert                 *x509.Certificate
		issuer, subject, err string
	}{
		{"current extension, URI", cert([]pkix.Extension{current}, nil, []*url.URL{repo}), "https://token.actions.githubusercontent.com", repo.String(), ""},
		{"legacy extension, email", cert([]pkix.Extension{legacy}, []string{"me@example.com"}, nil), "https://accounts.google.com", "me@example.com", ""},
		{"both: the current wins", cert([]pkix.Extension{legacy, current}, []string{"me@example.com"}, nil), "https://token.actions.githubusercontent.com", "me@example.com", ""},
		{"email before URI", cert([]pkix.Extension{current}, []string{"me@example.com"}, []*url.URL{repo}), "https://token.actions.githubusercontent.com", "me@example.com", ""},
		{"no issuer", cert(nil, []string{"me@example.com"}, nil), "", "", "no OIDC issuer extension"},
		{"not a UTF8String", cert([]pkix.Extension{{Id: OIDFulcioIssuer(), Value: []byte("raw")}}, []string{"me@example.com"}, nil), "", "", "is not a UTF8String"},
		{"no SAN", cert([]pkix.Extension{current}, nil, nil), "", "", "no email or URI subject alternative name"},
	} {
		issuer, subject, err := CertificateIdentity(c.cert)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one containing %q", c.name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case issuer != c.issuer || subject != c.subject:
			t.Errorf("%s: issuer %q subject %q, want %q %q", c.name, issuer, subject, c.issuer, c.subject)
		}
	}
}
