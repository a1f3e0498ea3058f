package helm_test

import (
	"testing"
	"time"

	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// Fulcio certificates live ten minutes: what counts is that the signature was
// recorded in Rekor while the certificate was valid. A certificate valid at
// integratedTime is accepted although it expired long before the check; one
// whose validity had ended (or not begun) at integratedTime is refused.
func TestKeylessExpiredCertificate(t *testing.T) {
	f := newKeylessFixture(t)
	old := f.now.Add(-2 * time.Hour)
	f.sign(f.digest, chartrepo.KeylessSignature{Signer: f.issue(f.ca, keylessSubject, old), Log: f.log, IntegratedTime: old.Add(time.Minute)})
	if err := f.verify(f.access()); err != nil {
		t.Fatalf("signature recorded while the certificate was valid refused: %v", err)
	}
	f.sign(f.digest, chartrepo.KeylessSignature{Signer: f.issue(f.ca, keylessSubject, old), Log: f.log, IntegratedTime: old.Add(11 * time.Minute)})
	wantRefused(t, f.verify(f.access()), "keyless: certificate validity", "outside the certificate's validity")
	f.sign(f.digest, chartrepo.KeylessSignature{Signer: f.issue(f.ca, keylessSubject, old), Log: f.log, IntegratedTime: old.Add(-time.Minute)})
	wantRefused(t, f.verify(f.access()), "keyless: certificate validity")
}
