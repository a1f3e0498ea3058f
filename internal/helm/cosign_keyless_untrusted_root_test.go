package helm_test

import (
	"time"

	"testing"

	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// A certificate issued by another CA than the trusted Fulcio root is refused
// at the certificate-chain step, even when its identity is accepted and Rekor
// recorded the signature; the chain annotation cannot bring its own root in.
func TestKeylessUntrustedRoot(t *testing.T) {
	f := newKeylessFixture(t)
	rogue := f.newCA("rogue")
	f.sign(f.digest, chartrepo.KeylessSignature{Signer: f.issue(rogue, keylessSubject, f.now.Add(-time.Minute)), Log: f.log, IntegratedTime: f.now})
	wantRefused(t, f.verify(f.access()), "keyless: certificate chain", "does not chain to a Fulcio CA of fulcio.pem")
}
