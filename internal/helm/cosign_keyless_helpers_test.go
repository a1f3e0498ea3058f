package helm_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"oras.land/oras-go/v2/registry/remote"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// The keyless tests sign cloudnative-pg 0.27.1 of a real local OCI registry as
// cosign sign does with Fulcio and Rekor, both played by a CA and a log key
// made in the test, and verify the signature with helm.VerifyCosignSignature,
// the check the Helm feature runs before pulling a chart.
const (
	keylessIssuer  = "https://token.actions.githubusercontent.com"
	keylessSubject = "https://github.com/tugboat-dev/charts/.github/workflows/release.yaml@refs/tags/v1"
	keylessChart   = "cloudnative-pg"
)

type keylessFixture struct {
	t      *testing.T
	server *chartrepo.Server
	repo   *remote.Repository
	// digest is the manifest of 0.27.1, otherDigest that of 0.27.2.
	digest, otherDigest string
	ca                  *chartrepo.FulcioCA
	log                 *chartrepo.RekorLog
	// now is when the signature is recorded (integratedTime).
	now time.Time
}

func newKeylessFixture(t *testing.T) *keylessFixture {
	t.Helper()
	ctx := context.Background()
	f := &keylessFixture{t: t, server: chartrepo.Start(t, chartsDir(t)), now: time.Now().Truncate(time.Second)}
	var err error
	if f.repo, err = f.server.OCIRepository(keylessChart); err != nil {
		t.Fatal(err)
	}
	if f.digest, err = f.server.OCIManifestDigest(ctx, keylessChart, "0.27.1"); err != nil {
		t.Fatal(err)
	}
	if f.otherDigest, err = f.server.OCIManifestDigest(ctx, keylessChart, "0.27.2"); err != nil {
		t.Fatal(err)
	}
	f.ca = f.newCA("fulcio")
	f.log = newRekorLog(t)
	return f
}

func (f *keylessFixture) newCA(name string) *chartrepo.FulcioCA {
	f.t.Helper()
	ca, err := chartrepo.NewFulcioCA(name, f.now.Add(-24*time.Hour), f.now.Add(365*24*time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	return ca
}

func newRekorLog(t *testing.T) *chartrepo.RekorLog {
	t.Helper()
	l, err := chartrepo.NewRekorLog()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// issue certifies subject (issuer keylessIssuer) by ca for ten minutes from notBefore, as Fulcio does.
func (f *keylessFixture) issue(ca *chartrepo.FulcioCA, subject string, notBefore time.Time) *chartrepo.KeylessSigner {
	f.t.Helper()
	s, err := ca.Issue(keylessIssuer, subject, notBefore, notBefore.Add(10*time.Minute))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// sign stores, as the signature of 0.27.1, a keyless signature over a payload
// naming signedDigest.
func (f *keylessFixture) sign(signedDigest string, k chartrepo.KeylessSignature) {
	f.t.Helper()
	if err := f.server.CosignSignKeyless(context.Background(), keylessChart, f.digest, signedDigest, k); err != nil {
		f.t.Fatal(err)
	}
}

// access trusts the fixture's CA root and log, and the given identities
// (default: keylessIssuer and keylessSubject exactly).
func (f *keylessFixture) access(ids ...libv1beta1.OIDCIdentityMatch) helm.Access {
	f.t.Helper()
	if len(ids) == 0 {
		ids = f.identities()
	}
	trust, err := helm.ParseKeylessTrust(f.ca.RootPEM, f.log.PublicKeyPEM, ids)
	if err != nil {
		f.t.Fatal(err)
	}
	return helm.Access{Keyless: trust}
}

// identities accept keylessIssuer and keylessSubject exactly.
func (f *keylessFixture) identities() []libv1beta1.OIDCIdentityMatch {
	return []libv1beta1.OIDCIdentityMatch{{Issuer: regexp.QuoteMeta(keylessIssuer), Subject: regexp.QuoteMeta(keylessSubject)}}
}

func (f *keylessFixture) verify(a helm.Access) error {
	return helm.VerifyCosignSignature(context.Background(), f.repo, f.digest, a)
}

// wantRefused fails unless err is a signature failure whose message holds every part.
func wantRefused(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want refused with %q", parts)
	}
	if !errors.Is(err, helm.ErrSignature) {
		t.Errorf("error %v does not wrap ErrSignature", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
	t.Logf("refused: %v", err)
}
