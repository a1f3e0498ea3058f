package profiles_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// signatureVerification (Cosign, provider PublicKey): an OCI chart whose
// signature was made by a key of the profile's Secret installs (ECDSA P-256,
// Ed25519 and RSA keys); a chart signed by another key, one whose signature
// names another manifest (the chart replaced after signing) and an unsigned
// one are refused with the reason — no release, and the chart layer is never
// even downloaded, so nothing is cached; an upgrade to an unsigned version is
// refused and the signed release stays as it was; a public key that does not parse
// fails naming the profile and the field; signatureVerification on an http(s)
// chart fails saying it applies to oci:// charts. The test signs as cosign sign
// --key does: a simple-signing payload, signed, pushed as the .sig manifest
// into the chart's repository of the real local OCI registry.
func TestHelmSignatureVerification(t *testing.T) {
	ctx := context.Background()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	trusted := map[string][]byte{}
	for name, k := range map[string]crypto.Signer{"cosign.pub": ecKey, "release-ed25519.pub": edKey, "release-rsa.pub": rsaKey} {
		if trusted[name], err = chartrepo.PublicKeyPEM(k.Public()); err != nil {
			t.Fatal(err)
		}
	}
	trusted["README"] = []byte("keys not ending in .pub are not keys") // ignored
	createSecret(t, "fleet", "cosign-trusted", trusted)
	createSecret(t, "fleet", "cosign-garbage", map[string][]byte{"cosign.pub": []byte("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")})

	tmp := t.TempDir()
	const chartName, version = "cosigned-app", "0.1.0"
	newRepoOf := func(dir, note string) *chartrepo.Server {
		return serveRepo(t, packageRepo(t, tinyChart(t, filepath.Join(tmp, dir), chartName, version, configMapChart(note))), chartrepo.ServeOptions{})
	}
	newRepo := func(dir string) *chartrepo.Server { return newRepoOf(dir, "cosigned") }
	digestOf := func(r *chartrepo.Server) string {
		d, err := r.OCIManifestDigest(ctx, chartName, version)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	sign := func(r *chartrepo.Server, manifestDigest, signedDigest string, key crypto.Signer) {
		if err := r.CosignSign(ctx, chartName, manifestDigest, signedDigest, key); err != nil {
			t.Fatal(err)
		}
	}

	type tc struct {
		name, secret string
		repo         *chartrepo.Server
		http         bool
		want         []string // parts of the failure message; none: installs
	}
	var cases []tc
	// The ECDSA-signed repository also offers an unsigned 0.2.0, the upgrade
	// refused at the end.
	upgradeRepo := serveRepo(t, packageRepo(t,
		tinyChart(t, filepath.Join(tmp, "upgrade"), chartName, version, configMapChart("cosigned")),
		tinyChart(t, filepath.Join(tmp, "upgrade"), chartName, "0.2.0", configMapChart("unsigned-upgrade"))), chartrepo.ServeOptions{})
	for name, key := range map[string]crypto.Signer{"cosign-good-ecdsa": ecKey, "cosign-good-ed25519": edKey, "cosign-good-rsa": rsaKey} {
		r := upgradeRepo
		if name != "cosign-good-ecdsa" {
			r = newRepo(name)
		}
		sign(r, digestOf(r), digestOf(r), key)
		cases = append(cases, tc{name: name, secret: "cosign-trusted", repo: r})
	}
	foreign := newRepo("foreign")
	sign(foreign, digestOf(foreign), digestOf(foreign), stranger)
	// Replaced: the trusted key signed another build of the chart (other
	// content, same name and version); that signature now stands beside the
	// chart the tag points at.
	replaced := newRepo("replaced")
	other := newRepoOf("other", "other")
	sign(replaced, digestOf(replaced), digestOf(other), ecKey)
	unsigned := newRepo("unsigned")
	cases = append(cases,
		tc{name: "cosign-foreign", secret: "cosign-trusted", repo: foreign, want: []string{
			"signature verification failed", "not made by a trusted public key of signatureVerification.secretRef"}},
		tc{name: "cosign-replaced", secret: "cosign-trusted", repo: replaced, want: []string{
			"signature verification failed", "Secret fleet/cosign-trusted key cosign.pub", "for manifest " + digestOf(other),
			"not for this chart's manifest " + digestOf(replaced), "replaced or tampered"}},
		tc{name: "cosign-unsigned", secret: "cosign-trusted", repo: unsigned, want: []string{
			"signature verification failed", "the chart is not signed", helm.CosignSignatureTag(digestOf(unsigned))}},
		tc{name: "cosign-badkey", secret: "cosign-garbage", repo: newRepo("badkey"), want: []string{
			"ClusterProfile cosign-badkey", "helmCharts[0]", "signatureVerification.secretRef", "fleet/cosign-garbage", "key cosign.pub", "not a PEM public key"}},
		tc{name: "cosign-http", secret: "cosign-trusted", repo: newRepo("http"), http: true, want: []string{
			"signatureVerification", "oci:// charts only", "provenanceVerification"}},
	)

	var charts []libv1beta1.HelmChart
	for _, c := range cases {
		hc := tinyHelmChart(c.repo.URL, chartName, c.name, c.name)
		if !c.http {
			hc.RepositoryURL, hc.ChartName = c.repo.OCIURL, chartName
			hc.RegistryCredentialsConfig = &libv1beta1.RegistryCredentialsConfig{PlainHTTP: true}
		}
		hc.SignatureVerification = &libv1beta1.SignatureVerification{
			Provider:  libv1beta1.SignatureProviderPublicKey,
			SecretRef: &corev1.SecretReference{Namespace: "fleet", Name: c.secret},
		}
		charts = append(charts, hc)
	}
	deployChartsToApp2(t, charts...)
	for _, c := range cases {
		verifiedChartOutcome(t, c.name, "cosigned", c.want)
		// Nothing of a refused chart is downloaded, hence nothing cached.
		if n := c.repo.OCIPulls(chartName, version); c.want != nil && n != 0 {
			t.Errorf("%s: the chart layer was pulled %d times, want never", c.name, n)
		}
	}
	hr := helmReader(t)
	cfg := env.Cluster("app-2").Config
	app2 := managedClient(t, "app-2")
	// An upgrade to an unsigned version is refused and the signed release
	// stays as it was (the last good state).
	p := &configv1beta1.ClusterProfile{}
	if err := mgmt.Get(ctx, types.NamespacedName{Name: "cosign-good-ecdsa"}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.HelmCharts[0].ChartVersion = "0.2.0"
	if err := mgmt.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, "cosign-good-ecdsa", "app-2", helmFailedWith("signature verification failed", "the chart is not signed", "0.2.0"))
	rel, err := hr.Release(ctx, cfg, "cosign-good-ecdsa", "cosign-good-ecdsa")
	if err != nil || rel.ChartVersion != version || rel.Status != "deployed" {
		t.Errorf("after the refused upgrade the release is %+v (err %v), want %s deployed", rel, err, version)
	}
	cm := &corev1.ConfigMap{}
	if err := app2.Get(ctx, types.NamespacedName{Namespace: "cosign-good-ecdsa", Name: "cosign-good-ecdsa-cm"}, cm); err != nil || cm.Data["note"] != "cosigned" {
		t.Errorf("after the refused upgrade the ConfigMap is %v (err %v), want note cosigned", cm.Data, err)
	}
	if n := upgradeRepo.OCIPulls(chartName, "0.2.0"); n != 0 {
		t.Errorf("the unsigned 0.2.0 chart layer was pulled %d times, want never", n)
	}

	// Refusals are Events on the ClusterSummary too: the foreign signature and the bad key.
	for _, want := range []struct{ profile, text string }{
		{"cosign-foreign", "not made by a trusted public key"},
		{"cosign-badkey", "signatureVerification.secretRef"},
	} {
		summary := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, want.profile, "app-2")
		testenv.Eventually(t, "an Event on ClusterSummary "+summary, func() error {
			events := &corev1.EventList{}
			if err := mgmt.List(ctx, events, client.InNamespace("fleet")); err != nil {
				return err
			}
			for _, e := range events.Items {
				if e.InvolvedObject.Kind == "ClusterSummary" && e.InvolvedObject.Name == summary && strings.Contains(e.Message, want.text) {
					return nil
				}
			}
			return fmt.Errorf("no Event on %s says %q", summary, want.text)
		})
	}
}
