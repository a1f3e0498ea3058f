package helm_test

import (
	"testing"
	"time"

	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// The entry the trusted log signed must record what the layer carries: an
// entry of another signature, another certificate, another payload hash, or
// of another kind than hashedrekord is refused at the Rekor entry step, even
// though its signed entry timestamp verifies.
func TestKeylessRekorEntry(t *testing.T) {
	f := newKeylessFixture(t)
	signer := f.issue(f.ca, keylessSubject, f.now.Add(-time.Minute))
	other := f.issue(f.ca, keylessSubject, f.now.Add(-time.Minute))
	for _, c := range []struct {
		name  string
		alter func(*helm.RekorHashedRekord)
		want  string
	}{
		{"another signature", func(e *helm.RekorHashedRekord) { e.Spec.Signature.Content = []byte("another signature") }, "records another signature than the layer's"},
		{"another certificate", func(e *helm.RekorHashedRekord) { e.Spec.Signature.PublicKey.Content = other.CertPEM }, "records another certificate than the layer's"},
		{"another payload", func(e *helm.RekorHashedRekord) { e.Spec.Data.Hash.Value = "00" }, "records the hash sha256:00, not the payload's"},
		{"another kind", func(e *helm.RekorHashedRekord) { e.Kind = "rekord" }, `kind "rekord"`},
	} {
		f.sign(f.digest, chartrepo.KeylessSignature{Signer: signer, Log: f.log, IntegratedTime: f.now, AlterEntry: c.alter})
		t.Run(c.name, func(t *testing.T) { wantRefused(t, f.verify(f.access()), "keyless: Rekor entry", c.want) })
	}
}
