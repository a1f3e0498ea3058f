package helm_test

import (
	"strings"
	"testing"
	"time"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// The trust root of provider Keyless parses or fails naming what is wrong:
// fulcio.pem without a certificate, rekor.pub without a key or with a key that
// does not parse, an issuer or subject that is not a regular expression, no
// identity at all.
func TestUnitKeylessTrustRoot(t *testing.T) {
	now := time.Now()
	ca, err := chartrepo.NewFulcioCA("fulcio", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	log, err := chartrepo.NewRekorLog()
	if err != nil {
		t.Fatal(err)
	}
	ids := []libv1beta1.OIDCIdentityMatch{{Issuer: ".*", Subject: ".*"}}
	badKey := []byte("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n")
	for _, c := range []struct {
		name          string
		fulcio, rekor []byte
		ids           []libv1beta1.OIDCIdentityMatch
		want          string
	}{
		{"valid", ca.RootPEM, log.PublicKeyPEM, ids, ""},
		{"root and intermediate", append(append([]byte{}, ca.RootPEM...), ca.IntermediatePEM...), log.PublicKeyPEM, ids, ""},
		{"fulcio.pem not PEM", []byte("not a certificate"), log.PublicKeyPEM, ids, "fulcio.pem holds no PEM certificate"},
		{"fulcio.pem a key", log.PublicKeyPEM, log.PublicKeyPEM, ids, `fulcio.pem: PEM block 1 is a "PUBLIC KEY"`},
		{"rekor.pub empty", ca.RootPEM, nil, ids, "rekor.pub holds no PEM public key"},
		{"rekor.pub garbage", ca.RootPEM, badKey, ids, "rekor.pub: key 1: not a PEM public key"},
		{"issuer not a regexp", ca.RootPEM, log.PublicKeyPEM, []libv1beta1.OIDCIdentityMatch{{Issuer: "(", Subject: ".*"}}, `matchOIDCIdentity[0].issuer "(" is not a regular expression`},
		{"subject not a regexp", ca.RootPEM, log.PublicKeyPEM, []libv1beta1.OIDCIdentityMatch{{Issuer: ".*", Subject: "[a"}}, `matchOIDCIdentity[0].subject "[a" is not a regular expression`},
		{"no identity", ca.RootPEM, log.PublicKeyPEM, nil, "matchOIDCIdentity is empty"},
	} {
		_, err := helm.ParseKeylessTrust(c.fulcio, c.rekor, c.ids)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
