package helm_test

import (
	"testing"
	"time"

	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// Without trustedRootSecretRef, Keyless trusts only the built-in Sigstore
// public-good root: a signature whose certificate comes from any other CA (here
// the test's) is refused at the certificate-chain step, naming that root.
func TestKeylessDefaultTrustRoot(t *testing.T) {
	f := newKeylessFixture(t)
	f.sign(f.digest, chartrepo.KeylessSignature{Signer: f.issue(f.ca, keylessSubject, f.now.Add(-time.Minute)), Log: f.log, IntegratedTime: f.now})
	trust, err := helm.PublicGoodKeylessTrust(f.identities())
	if err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.verify(helm.Access{Keyless: trust}), "keyless: certificate chain", "does not chain to a Fulcio CA of "+helm.PublicGoodSource)
}
