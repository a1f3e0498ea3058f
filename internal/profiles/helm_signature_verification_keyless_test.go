package profiles_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// signatureVerification provider Keyless: a chart signed as cosign sign does
// with Fulcio and Rekor (played by a CA and a log key made in the test, their
// root and key in the trustedRootSecretRef Secret) installs when the
// certificate's identity matches matchOIDCIdentity; a profile accepting only
// another identity is Failed with the identity step in its message and nothing
// installed, until its matchOIDCIdentity is fixed; a trust root whose
// fulcio.pem does not parse fails naming the profile, the field and the Secret;
// without trustedRootSecretRef only the built-in Sigstore public-good root is
// trusted, so the test CA's certificate is refused naming it. The identity
// refusal is also an Event on the ClusterSummary. Fixing the trust root Secret
// installs the chart (the Secret is watched).
func TestHelmSignatureVerificationKeyless(t *testing.T) {
	ctx := context.Background()
	const (
		chartName, version = "keyless-app", "0.1.0"
		issuer             = "https://token.actions.githubusercontent.com"
		subject            = "https://github.com/tugboat-dev/charts/.github/workflows/release.yaml@refs/tags/v0.1.0"
	)
	now := time.Now()
	ca, err := chartrepo.NewFulcioCA("fulcio", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rekor, err := chartrepo.NewRekorLog()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ca.Issue(issuer, subject, now.Add(-time.Minute), now.Add(9*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	createSecret(t, "fleet", "sigstore-trust", map[string][]byte{"fulcio.pem": ca.RootPEM, "rekor.pub": rekor.PublicKeyPEM})
	createSecret(t, "fleet", "sigstore-garbage", map[string][]byte{"fulcio.pem": []byte("not a certificate"), "rekor.pub": rekor.PublicKeyPEM})

	repo := serveRepo(t, packageRepo(t, tinyChart(t, filepath.Join(t.TempDir(), "keyless"), chartName, version, configMapChart("keyless"))), chartrepo.ServeOptions{})
	digest, err := repo.OCIManifestDigest(ctx, chartName, version)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.CosignSignKeyless(ctx, chartName, digest, digest, chartrepo.KeylessSignature{Signer: signer, Log: rekor, IntegratedTime: now}); err != nil {
		t.Fatal(err)
	}

	accepted := libv1beta1.OIDCIdentityMatch{Issuer: `https://token\.actions\.githubusercontent\.com`, Subject: `https://github\.com/tugboat-dev/charts/\.github/workflows/release\.yaml@refs/tags/v.*`}
	other := libv1beta1.OIDCIdentityMatch{Issuer: `https://token\.actions\.githubusercontent\.com`, Subject: `https://github\.com/someone-else/.*`}
	chart := func(release, secret string, id libv1beta1.OIDCIdentityMatch) libv1beta1.HelmChart {
		hc := tinyHelmChart(repo.OCIURL, chartName, release, release)
		hc.ChartName = chartName
		hc.RegistryCredentialsConfig = &libv1beta1.RegistryCredentialsConfig{PlainHTTP: true}
		hc.SignatureVerification = &libv1beta1.SignatureVerification{
			Provider:          libv1beta1.SignatureProviderKeyless,
			MatchOIDCIdentity: []libv1beta1.OIDCIdentityMatch{id},
		}
		if secret != "" {
			hc.SignatureVerification.TrustedRootSecretRef = &corev1.SecretReference{Namespace: "fleet", Name: secret}
		}
		return hc
	}
	deployChartsToApp2(t,
		chart("keyless-good", "sigstore-trust", accepted),
		chart("keyless-other-identity", "sigstore-trust", other),
		chart("keyless-bad-root", "sigstore-garbage", accepted),
		chart("keyless-public-good", "", accepted),
	)
	verifiedChartOutcome(t, "keyless-good", "keyless", nil)
	verifiedChartOutcome(t, "keyless-other-identity", "keyless", []string{
		"signature verification failed", "keyless: identity", subject, "matches no entry of matchOIDCIdentity"})
	verifiedChartOutcome(t, "keyless-bad-root", "keyless", []string{
		"ClusterProfile keyless-bad-root", "signatureVerification", "Secret fleet/sigstore-garbage", "fulcio.pem holds no PEM certificate"})
	verifiedChartOutcome(t, "keyless-public-good", "keyless", []string{
		"keyless: certificate chain", "does not chain to a Fulcio CA of " + helm.PublicGoodSource})
	if n := repo.OCIPulls(chartName, version); n != 1 {
		t.Errorf("the chart layer was pulled %d times, want once (for keyless-good only)", n)
	}

	summary := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "keyless-other-identity", "app-2")
	testenv.Eventually(t, "an Event on ClusterSummary "+summary, func() error {
		events := &corev1.EventList{}
		if err := mgmt.List(ctx, events, client.InNamespace("fleet")); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Kind == "ClusterSummary" && e.InvolvedObject.Name == summary && strings.Contains(e.Message, "keyless: identity") {
				return nil
			}
		}
		return fmt.Errorf("no Event on %s says keyless: identity", summary)
	})

	// Fixing the identity installs the chart.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := &configv1beta1.ClusterProfile{}
		if err := mgmt.Get(ctx, types.NamespacedName{Name: "keyless-other-identity"}, p); err != nil {
			return err
		}
		p.Spec.HelmCharts[0].SignatureVerification.MatchOIDCIdentity = []libv1beta1.OIDCIdentityMatch{other, accepted}
		return mgmt.Update(ctx, p)
	}); err != nil {
		t.Fatal(err)
	}
	verifiedChartOutcome(t, "keyless-other-identity", "keyless", nil)

	// The trust root Secret is watched: fixing its fulcio.pem installs the chart.
	createSecret(t, "fleet", "sigstore-garbage", map[string][]byte{"fulcio.pem": ca.RootPEM, "rekor.pub": rekor.PublicKeyPEM})
	verifiedChartOutcome(t, "keyless-bad-root", "keyless", nil)
}
