package profiles_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// provenanceVerification: a chart signed with a key of the profile's keyring
// installs; the same chart with a tampered archive, signed by another key, or
// not signed at all is refused with the reason and nothing is installed; a
// keyring that does not parse fails naming the profile and the field.
func TestHelmProvenanceVerification(t *testing.T) {
	ctx := context.Background()
	trusted, err := chartrepo.NewSigningKey("Tugboat charts", "charts@tugboat.test")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := chartrepo.NewSigningKey("Someone else", "else@example.test")
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := chartrepo.PublicKeyring(trusted)
	if err != nil {
		t.Fatal(err)
	}
	createSecret(t, "fleet", "helm-prov-keyring", map[string][]byte{libv1beta1.ProvenanceKeyringKey: keyring})
	createSecret(t, "fleet", "helm-prov-garbage", map[string][]byte{libv1beta1.ProvenanceKeyringKey: []byte("this is not a keyring")})

	tmp := t.TempDir()
	const chartName = "signed-app"
	archive := func(dir string) string { return filepath.Join(dir, chartName+"-0.1.0.tgz") }

	good := packageRepo(t, tinyChart(t, tmp, chartName, "0.1.0", configMapChart("signed")))
	if err := chartrepo.Sign(archive(good), trusted); err != nil {
		t.Fatal(err)
	}
	// Tampered: signed, then the archive replaced by another build of the same
	// name and version, and the index rewritten to match it (a compromised repository).
	tampered := packageRepo(t, tinyChart(t, filepath.Join(tmp, "t"), chartName, "0.1.0", configMapChart("signed")))
	if err := chartrepo.Sign(archive(tampered), trusted); err != nil {
		t.Fatal(err)
	}
	evil := packageRepo(t, tinyChart(t, filepath.Join(tmp, "e"), chartName, "0.1.0", configMapChart("evil")))
	data, err := os.ReadFile(archive(evil))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive(tampered), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chartrepo.Reindex(tampered); err != nil {
		t.Fatal(err)
	}
	foreign := packageRepo(t, tinyChart(t, filepath.Join(tmp, "f"), chartName, "0.1.0", configMapChart("signed")))
	if err := chartrepo.Sign(archive(foreign), stranger); err != nil {
		t.Fatal(err)
	}
	unsigned := packageRepo(t, tinyChart(t, filepath.Join(tmp, "u"), chartName, "0.1.0", configMapChart("signed")))

	cases := []struct {
		name, repoDir, keyringSecret string
		want                         []string // parts of the failure message; none: installs
	}{
		{"helm-prov-good", good, "helm-prov-keyring", nil},
		{"helm-prov-tampered", tampered, "helm-prov-keyring", []string{"provenance verification failed", "modified after it was signed"}},
		{"helm-prov-foreign", foreign, "helm-prov-keyring", []string{"provenance verification failed", "not in the keyring"}},
		{"helm-prov-unsigned", unsigned, "helm-prov-keyring", []string{"is not signed", ".tgz.prov"}},
		{"helm-prov-badkeyring", good, "helm-prov-garbage", []string{"ClusterProfile helm-prov-badkeyring", "helmCharts[0]",
			"provenanceVerification.keyringSecretRef", "fleet/helm-prov-garbage", "not an OpenPGP keyring"}},
		// The same signed chart from the repository's OCI side: not verifiable here, refused saying so.
		{"helm-prov-oci", good, "helm-prov-keyring", []string{"provenanceVerification", "http(s) repositories only"}},
	}
	var charts []libv1beta1.HelmChart
	for _, c := range cases {
		repo := serveRepo(t, c.repoDir, chartrepo.ServeOptions{})
		hc := tinyHelmChart(repo.URL, chartName, c.name, c.name)
		if c.name == "helm-prov-oci" {
			hc.RepositoryURL, hc.ChartName = repo.OCIURL, chartName
		}
		hc.ProvenanceVerification = &libv1beta1.ProvenanceVerification{
			KeyringSecretRef: corev1.SecretReference{Namespace: "fleet", Name: c.keyringSecret},
		}
		charts = append(charts, hc)
	}
	deployChartsToApp2(t, charts...)
	for _, c := range cases {
		verifiedChartOutcome(t, c.name, "signed", c.want)
	}
	// The bad keyring is reported in an Event naming the summary and the field.
	testenv.Eventually(t, "an Event about the bad keyring", func() error {
		events := &corev1.EventList{}
		if err := mgmt.List(ctx, events, client.InNamespace("fleet")); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Kind == "ClusterSummary" && strings.Contains(e.Message, "provenanceVerification.keyringSecretRef") &&
				strings.Contains(e.Message, "helm-prov-badkeyring") {
				return nil
			}
		}
		return errors.New("no Event names provenanceVerification.keyringSecretRef")
	})
}
