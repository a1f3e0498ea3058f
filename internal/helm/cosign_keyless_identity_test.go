package helm_test

import (
	"time"

	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// A keyless signature whose certificate names an accepted identity is
// accepted (exact and regular-expression matches, email subjects too); a
// certificate of another subject or another issuer is refused naming the
// identity step and the signer; the expressions are anchored, so a pattern
// matching only part of the subject does not accept it.
func TestKeylessIdentity(t *testing.T) {
	f := newKeylessFixture(t)
	signed := func(subject string) {
		f.sign(f.digest, chartrepo.KeylessSignature{Signer: f.issue(f.ca, subject, f.now.Add(-time.Minute)), Log: f.log, IntegratedTime: f.now})
	}

	signed(keylessSubject)
	if err := f.verify(f.access()); err != nil {
		t.Fatalf("accepted identity refused: %v", err)
	}
	if err := f.verify(f.access(
		libv1beta1.OIDCIdentityMatch{Issuer: "https://accounts.google.com", Subject: ".*"},
		libv1beta1.OIDCIdentityMatch{Issuer: `https://token\.actions\.githubusercontent\.com`, Subject: `https://github\.com/tugboat-dev/charts/.*`},
	)); err != nil {
		t.Fatalf("identity accepted by the second entry refused: %v", err)
	}
	wantRefused(t, f.verify(f.access(libv1beta1.OIDCIdentityMatch{Issuer: "https://accounts.google.com", Subject: ".*"})),
		"keyless: identity", "matches no entry of matchOIDCIdentity", "issuer "+keylessIssuer)
	wantRefused(t, f.verify(f.access(libv1beta1.OIDCIdentityMatch{Issuer: ".*", Subject: "https://github.com/tugboat-dev"})),
		"keyless: identity", keylessSubject)

	signed("https://github.com/someone-else/charts/.github/workflows/release.yaml@refs/heads/main")
	wantRefused(t, f.verify(f.access()), "keyless: identity", "https://github.com/someone-else/charts")

	signed("release@tugboat.dev")
	if err := f.verify(f.access(libv1beta1.OIDCIdentityMatch{Issuer: ".*", Subject: `release@tugboat\.dev`})); err != nil {
		t.Fatalf("email identity refused: %v", err)
	}
}
