package helm

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/provenance"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Access is what fetching one chart needs beyond its spec: credentials, trust,
// the keyring its provenance must be signed with and the keys its Cosign
// signature must be made with. The zero Access fetches anonymously, trusts the
// system's CAs and verifies nothing beyond the index's digest. ResolveAccess builds it from the Secrets a HelmChart names.
type Access struct {
	// Username and Password authenticate to the repository (HTTP basic auth, or
	// the OCI registry's login).
	Username, Password string
	// CAPEM are certificate authorities trusted beside the system's.
	CAPEM []byte
	// InsecureSkipTLSVerify accepts any certificate.
	InsecureSkipTLSVerify bool
	// PlainHTTP talks to an OCI registry over HTTP.
	PlainHTTP bool
	// PassCredentialsAll sends the credentials to every host the index points
	// at, not only the repository's.
	PassCredentialsAll bool
	// Keyring, when not nil, is what the chart's provenance file must be signed
	// with (provenanceVerification).
	Keyring *provenance.Signatory
	// SignatureKeys, when not empty, are the public keys one of which must
	// have made the Cosign signature of an OCI chart (signatureVerification).
	SignatureKeys []SignatureKey
	// Keyless, when not nil, is the trust a keyless Cosign signature of an OCI
	// chart is checked against (signatureVerification provider Keyless).
	Keyless *KeylessTrust
	// fingerprint identifies the material above (a hash), for cache keys and
	// the feature hash.
	fingerprint string
}

// Fingerprint is a hash of the access material: two Access with the same
// credentials, trust and keyring have the same one. Empty for the zero Access.
func (a Access) Fingerprint() string { return a.fingerprint }

// signatureVerified reports whether an OCI chart's Cosign signature must be
// verified before it is pulled.
func (a Access) signatureVerified() bool { return len(a.SignatureKeys) > 0 || a.Keyless != nil }

// credentialed reports whether the access carries credentials or trust
// settings that make its downloads differ from anonymous ones.
func (a Access) credentialed() bool {
	return a.Username != "" || a.Password != "" || len(a.CAPEM) > 0 || a.InsecureSkipTLSVerify || a.PlainHTTP
}

// ResolveAccess reads the Secrets the chart's registryCredentialsConfig,
// provenanceVerification and signatureVerification name, in the management
// cluster through reader. defaultNamespace is where references without a
// namespace resolve. Errors name the field and the Secret.
func ResolveAccess(ctx context.Context, reader client.Reader, hc libv1beta1.HelmChart, defaultNamespace string) (Access, error) {
	var a Access
	h := sha256.New()
	if hc.Options != nil {
		a.PassCredentialsAll = hc.Options.PassCredentialsAll
	}
	if rc := hc.RegistryCredentialsConfig; rc != nil {
		a.InsecureSkipTLSVerify = rc.InsecureSkipTLSVerify
		a.PlainHTTP = rc.PlainHTTP
		if rc.CredentialsSecretRef != nil {
			s, err := readSecret(ctx, reader, *rc.CredentialsSecretRef, defaultNamespace, "registryCredentialsConfig.credentials")
			if err != nil {
				return Access{}, err
			}
			a.Username, a.Password, err = credentialsFrom(s, rc.Key, hc.RepositoryURL)
			if err != nil {
				return Access{}, fmt.Errorf("registryCredentialsConfig.credentials: Secret %s/%s: %w", s.Namespace, s.Name, err)
			}
		}
		if rc.CASecretRef != nil {
			s, err := readSecret(ctx, reader, *rc.CASecretRef, defaultNamespace, "registryCredentialsConfig.ca")
			if err != nil {
				return Access{}, err
			}
			ca := s.Data["ca.crt"]
			if len(ca) == 0 {
				return Access{}, fmt.Errorf("registryCredentialsConfig.ca: Secret %s/%s has no key ca.crt", s.Namespace, s.Name)
			}
			if !x509.NewCertPool().AppendCertsFromPEM(ca) {
				return Access{}, fmt.Errorf("registryCredentialsConfig.ca: Secret %s/%s: ca.crt holds no PEM certificate", s.Namespace, s.Name)
			}
			a.CAPEM = ca
		}
	}
	if pv := hc.ProvenanceVerification; pv != nil {
		s, err := readSecret(ctx, reader, pv.KeyringSecretRef, defaultNamespace, "provenanceVerification.keyringSecretRef")
		if err != nil {
			return Access{}, err
		}
		data := s.Data[libv1beta1.ProvenanceKeyringKey]
		if len(data) == 0 {
			return Access{}, fmt.Errorf("provenanceVerification.keyringSecretRef: Secret %s/%s has no key %s", s.Namespace, s.Name, libv1beta1.ProvenanceKeyringKey)
		}
		a.Keyring, err = ParseKeyring(data)
		if err != nil {
			return Access{}, fmt.Errorf("provenanceVerification.keyringSecretRef: Secret %s/%s key %s: %w", s.Namespace, s.Name, libv1beta1.ProvenanceKeyringKey, err)
		}
		h.Write([]byte("keyring\x00"))
		h.Write(data)
	}
	if sv := hc.SignatureVerification; sv != nil {
		var data []byte
		var err error
		if sv.Provider == libv1beta1.SignatureProviderKeyless {
			a.Keyless, data, err = resolveKeylessTrust(ctx, reader, sv, defaultNamespace)
		} else {
			a.SignatureKeys, data, err = resolveSignatureKeys(ctx, reader, sv, defaultNamespace)
		}
		if err != nil {
			return Access{}, err
		}
		h.Write([]byte("cosign\x00"))
		h.Write(data)
	}
	if a.credentialed() || a.Keyring != nil || a.signatureVerified() {
		fmt.Fprintf(h, "\x00%s\x00%s\x00%t\x00%t\x00%t\x00", a.Username, a.Password, a.InsecureSkipTLSVerify, a.PlainHTTP, a.PassCredentialsAll)
		h.Write(a.CAPEM)
		a.fingerprint = hex.EncodeToString(h.Sum(nil)[:16])
	}
	return a, nil
}

func readSecret(ctx context.Context, reader client.Reader, ref corev1.SecretReference, defaultNamespace, field string) (*corev1.Secret, error) {
	ns := ref.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	if ref.Name == "" {
		return nil, fmt.Errorf("%s: no Secret name", field)
	}
	s := &corev1.Secret{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s: Secret %s/%s not found", field, ns, ref.Name)
		}
		return nil, fmt.Errorf("%s: reading Secret %s/%s: %w", field, ns, ref.Name, err)
	}
	return s, nil
}

// credentialsFrom reads username/password keys, else a Docker config JSON
// (key, .dockerconfigjson, config.json, or the only key) and its entry for the
// repository's host.
func credentialsFrom(s *corev1.Secret, key, repositoryURL string) (string, string, error) {
	if key == "" {
		if u, ok := s.Data["username"]; ok {
			return string(u), string(s.Data["password"]), nil
		}
	}
	var data []byte
	switch {
	case key != "":
		data = s.Data[key]
		if data == nil {
			return "", "", fmt.Errorf("no key %s", key)
		}
	case s.Data[corev1.DockerConfigJsonKey] != nil:
		data = s.Data[corev1.DockerConfigJsonKey]
	case s.Data["config.json"] != nil:
		data = s.Data["config.json"]
	case len(s.Data) == 1:
		for _, v := range s.Data {
			data = v
		}
	default:
		return "", "", errors.New("neither username/password nor a Docker config JSON (set registryCredentialsConfig.key)")
	}
	host, err := hostOf(repositoryURL)
	if err != nil {
		return "", "", err
	}
	return dockerConfigCredentials(data, host)
}

// dockerConfigCredentials finds host in the auths of a Docker config JSON.
func dockerConfigCredentials(data []byte, host string) (string, string, error) {
	var cfg struct {
		Auths map[string]struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Auth     string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", "", fmt.Errorf("not a Docker config JSON: %w", err)
	}
	keys := make([]string, 0, len(cfg.Auths))
	for k := range cfg.Auths {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h := k
		if u, err := url.Parse(k); err == nil && u.Host != "" {
			h = u.Host
		}
		if !strings.EqualFold(h, host) {
			continue
		}
		e := cfg.Auths[k]
		if e.Username != "" || e.Password != "" {
			return e.Username, e.Password, nil
		}
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return "", "", fmt.Errorf("auths[%s].auth is not base64: %w", k, err)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", "", fmt.Errorf("auths[%s].auth is not user:password", k)
		}
		return user, pass, nil
	}
	return "", "", fmt.Errorf("the Docker config JSON has no auths entry for %s", host)
}

func hostOf(repositoryURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(repositoryURL))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("repositoryURL %q has no host", repositoryURL)
	}
	return u.Host, nil
}

// ParseKeyring reads an OpenPGP public keyring: a binary packet stream (gpg
// --export), a GnuPG keybox or ASCII armor. A keyring without keys is an error.
func ParseKeyring(data []byte) (*provenance.Signatory, error) {
	// The SDK reads keyrings from files only.
	f, err := os.CreateTemp("", "tugboat-keyring-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, werr
	}
	s, err := provenance.NewFromKeyring(filepath.Clean(f.Name()), "")
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP keyring: %s", strings.ReplaceAll(err.Error(), f.Name(), "keyring"))
	}
	if len(s.KeyRing) == 0 {
		return nil, errors.New("the keyring holds no key")
	}
	return s, nil
}

// httpClient is base configured for a's trust settings.
func (a Access) httpClient(base *http.Client) (*http.Client, error) {
	if len(a.CAPEM) == 0 && !a.InsecureSkipTLSVerify {
		return base, nil
	}
	var tr *http.Transport
	if t, ok := base.Transport.(*http.Transport); ok && t != nil {
		tr = t.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tr.TLSClientConfig != nil {
		cfg = tr.TLSClientConfig.Clone()
	}
	if len(a.CAPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(a.CAPEM) {
			return nil, errors.New("registryCredentialsConfig.ca holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	cfg.InsecureSkipVerify = a.InsecureSkipTLSVerify //nolint:gosec // the user asked for it (insecureSkipTLSVerify)
	tr.TLSClientConfig = cfg
	c := *base
	c.Transport = tr
	return &c, nil
}

// SecretRefs are the Secrets of the management cluster the chart's access
// reads (credentials, CA, provenance keyring, signature public keys); a change
// of one of them concerns the profiles listing the chart.
func SecretRefs(hc libv1beta1.HelmChart) []corev1.SecretReference {
	var out []corev1.SecretReference
	if rc := hc.RegistryCredentialsConfig; rc != nil {
		for _, ref := range []*corev1.SecretReference{rc.CredentialsSecretRef, rc.CASecretRef} {
			if ref != nil {
				out = append(out, *ref)
			}
		}
	}
	if pv := hc.ProvenanceVerification; pv != nil {
		out = append(out, pv.KeyringSecretRef)
	}
	if sv := hc.SignatureVerification; sv != nil {
		for _, ref := range []*corev1.SecretReference{sv.SecretRef, sv.TrustedRootSecretRef} {
			if ref != nil {
				out = append(out, *ref)
			}
		}
	}
	return out
}

// resolveSignatureKeys reads the public keys of signatureVerification: every
// key of its Secret ending in .pub. data is what was read, in key order (for
// the fingerprint).
func resolveSignatureKeys(ctx context.Context, reader client.Reader, sv *libv1beta1.SignatureVerification, defaultNamespace string) ([]SignatureKey, []byte, error) {
	if sv.Provider != libv1beta1.SignatureProviderPublicKey {
		return nil, nil, fmt.Errorf("signatureVerification.provider: %q is not supported by this version of Tugboat (PublicKey or Keyless)", sv.Provider)
	}
	if sv.SecretRef == nil {
		return nil, nil, errors.New("signatureVerification.secretRef: provider PublicKey needs the Secret holding the public key")
	}
	const field = "signatureVerification.secretRef"
	s, err := readSecret(ctx, reader, *sv.SecretRef, defaultNamespace, field)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(s.Data))
	for k := range s.Data {
		if strings.HasSuffix(k, libv1beta1.SignaturePublicKeySuffix) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%s: Secret %s/%s has no key ending in %s (e.g. cosign.pub)", field, s.Namespace, s.Name, libv1beta1.SignaturePublicKeySuffix)
	}
	slices.Sort(names)
	keys := make([]SignatureKey, 0, len(names))
	var data []byte
	for _, k := range names {
		key, err := ParseSignaturePublicKey(s.Data[k])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: Secret %s/%s key %s: %w", field, s.Namespace, s.Name, k, err)
		}
		keys = append(keys, SignatureKey{Source: fmt.Sprintf("Secret %s/%s key %s", s.Namespace, s.Name, k), Key: key})
		data = append(append(append(data, k...), 0), s.Data[k]...)
	}
	return keys, data, nil
}

// resolveKeylessTrust reads the trust root of provider Keyless (fulcio.pem and
// rekor.pub of trustedRootSecretRef, else the built-in Sigstore public-good
// root) and compiles matchOIDCIdentity. data is
// what was read and the identities (for the fingerprint).
func resolveKeylessTrust(ctx context.Context, reader client.Reader, sv *libv1beta1.SignatureVerification, defaultNamespace string) (*KeylessTrust, []byte, error) {
	const field = "signatureVerification.trustedRootSecretRef"
	identities := func(data []byte) []byte {
		for _, m := range sv.MatchOIDCIdentity {
			data = append(append(append(append(data, m.Issuer...), 0), m.Subject...), 0)
		}
		return data
	}
	if sv.TrustedRootSecretRef == nil {
		trust, err := PublicGoodKeylessTrust(sv.MatchOIDCIdentity)
		if err != nil {
			return nil, nil, fmt.Errorf("signatureVerification (Keyless, %s): %w", PublicGoodSource, err)
		}
		return trust, identities([]byte("keyless public-good\x00")), nil
	}
	s, err := readSecret(ctx, reader, *sv.TrustedRootSecretRef, defaultNamespace, field)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range []string{libv1beta1.TrustedRootFulcioKey, libv1beta1.TrustedRootRekorKey} {
		if len(s.Data[k]) == 0 {
			return nil, nil, fmt.Errorf("%s: Secret %s/%s has no key %s", field, s.Namespace, s.Name, k)
		}
	}
	trust, err := ParseKeylessTrust(s.Data[libv1beta1.TrustedRootFulcioKey], s.Data[libv1beta1.TrustedRootRekorKey], sv.MatchOIDCIdentity)
	if err != nil {
		return nil, nil, fmt.Errorf("signatureVerification (Keyless, Secret %s/%s): %w", s.Namespace, s.Name, err)
	}
	data := append(append([]byte("keyless\x00"), s.Data[libv1beta1.TrustedRootFulcioKey]...), 0)
	data = append(append(data, s.Data[libv1beta1.TrustedRootRekorKey]...), 0)
	return trust, identities(data), nil
}
