package profiles_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmrepo "helm.sh/helm/v4/pkg/repo/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// registryCredentialsConfig: a chart repository behind HTTPS with a private CA
// and basic auth installs with the credentials (username/password keys, or a
// Docker config JSON) and the CA from Secrets, or with insecureSkipTLSVerify;
// without credentials the feature fails with the repository's 401, without the
// CA with the certificate error.
func TestHelmRegistryCredentials(t *testing.T) {
	caPEM, serverCert := privateCA(t)
	dir := packageRepo(t, tinyChart(t, t.TempDir(), "private-app", "0.1.0", configMapChart("private")))
	repo := serveRepo(t, dir, chartrepo.ServeOptions{Username: "fleet", Password: "s3cret",
		TLS: &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}})
	u, err := url.Parse(repo.URL)
	if err != nil {
		t.Fatal(err)
	}
	dockerConfig := `{"auths":{"` + u.Host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("fleet:s3cret")) + `"}}}`
	createSecret(t, "fleet", "helm-creds-basic", map[string][]byte{"username": []byte("fleet"), "password": []byte("s3cret")})
	createSecret(t, "fleet", "helm-creds-docker", map[string][]byte{corev1.DockerConfigJsonKey: []byte(dockerConfig)})
	createSecret(t, "fleet", "helm-creds-ca", map[string][]byte{"ca.crt": caPEM})

	ref := func(name string) *corev1.SecretReference {
		return &corev1.SecretReference{Namespace: "fleet", Name: name}
	}
	cases := []struct {
		name string
		rc   libv1beta1.RegistryCredentialsConfig
		want []string // parts of the failure message; none: installs
	}{
		{"helm-creds-ok", libv1beta1.RegistryCredentialsConfig{CredentialsSecretRef: ref("helm-creds-basic"), CASecretRef: ref("helm-creds-ca")}, nil},
		{"helm-creds-dockercfg", libv1beta1.RegistryCredentialsConfig{CredentialsSecretRef: ref("helm-creds-docker"), InsecureSkipTLSVerify: true}, nil},
		{"helm-creds-nocreds", libv1beta1.RegistryCredentialsConfig{CASecretRef: ref("helm-creds-ca")}, []string{"401"}},
		{"helm-creds-noca", libv1beta1.RegistryCredentialsConfig{CredentialsSecretRef: ref("helm-creds-basic")}, []string{"certificate"}},
		{"helm-creds-missing", libv1beta1.RegistryCredentialsConfig{CredentialsSecretRef: ref("helm-creds-nosuch")},
			[]string{"ClusterProfile helm-creds-missing", "registryCredentialsConfig.credentials", "Secret fleet/helm-creds-nosuch not found"}},
	}
	// passCredentialsAll: an index whose archive URL points at another host
	// (a second server asking for the same credentials).
	archives := serveRepo(t, packageRepo(t, tinyChart(t, t.TempDir(), "private-app", "0.1.0", configMapChart("elsewhere"))),
		chartrepo.ServeOptions{Username: "fleet", Password: "s3cret"})
	indexDir := t.TempDir()
	idx, err := helmrepo.IndexDirectory(archives.Dir, strings.Replace(archives.URL, "127.0.0.1", "localhost", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(indexDir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	indexRepo := serveRepo(t, indexDir, chartrepo.ServeOptions{Username: "fleet", Password: "s3cret"})
	cases = append(cases,
		struct {
			name string
			rc   libv1beta1.RegistryCredentialsConfig
			want []string
		}{"helm-creds-passall", libv1beta1.RegistryCredentialsConfig{CredentialsSecretRef: ref("helm-creds-basic")}, nil},
		struct {
			name string
			rc   libv1beta1.RegistryCredentialsConfig
			want []string
		}{"helm-creds-repohost", libv1beta1.RegistryCredentialsConfig{CredentialsSecretRef: ref("helm-creds-basic")}, []string{"localhost", "401"}},
	)
	var profiles []*configv1beta1.ClusterProfile
	for _, c := range cases {
		hc := tinyHelmChart(repo.URL, "private-app", c.name, c.name)
		if c.name == "helm-creds-passall" || c.name == "helm-creds-repohost" {
			hc.RepositoryURL = indexRepo.URL
			hc.Options = &libv1beta1.HelmOptions{PassCredentialsAll: c.name == "helm-creds-passall"}
		}
		rc := c.rc
		hc.RegistryCredentialsConfig = &rc
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: c.name}}
		p.Spec.HelmCharts = []libv1beta1.HelmChart{hc}
		profiles = append(profiles, p)
	}
	createProfilesSelecting(t, "app-1", profiles...)

	for _, c := range cases {
		if c.want == nil {
			waitSummary(t, c.name, "app-1", helmStatus(libv1beta1.FeatureStatusProvisioned))
			if err := configMapIn("app-1", c.name, c.name+"-cm")(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		waitSummary(t, c.name, "app-1", helmFailedWith(c.want...))
	}
	// The missing Secret appears: the profile is tried again at once (the
	// Secret is watched); its credentials pass, but it names no CA.
	createSecret(t, "fleet", "helm-creds-nosuch", map[string][]byte{"username": []byte("fleet"), "password": []byte("s3cret")})
	waitSummary(t, "helm-creds-missing", "app-1", helmFailedWith("certificate"))
}

// unsetLabels removes the labels (keys of labels) from a managed cluster.
func unsetLabels(t *testing.T, cluster string, labels map[string]string) {
	off := map[string]string{}
	for k := range labels {
		off[k] = ""
	}
	setLabels(t, cluster, off)
}

// privateCA returns a new CA's certificate (PEM) and a server certificate it
// signed for 127.0.0.1.
func privateCA(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tugboat test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
