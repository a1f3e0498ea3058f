package helm

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	_ "embed" // the Sigstore public-good trust root
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Keyless Cosign signatures (cosign sign without --key), in the tag-based
// layout: the signature layer of the sha256-<digest>.sig manifest carries,
// beside the signature, the signer's short-lived certificate issued by Fulcio
// for an OIDC identity, the certificates between it and Fulcio's root, and the
// bundle Rekor returned when it recorded the signature in its transparency log.
// Everything is checked offline against the trust root of the profile's Secret.
const (
	// CosignCertificateAnnotation holds the PEM leaf certificate.
	CosignCertificateAnnotation = "dev.sigstore.cosign/certificate"
	// CosignChainAnnotation holds the PEM intermediate (and root) certificates.
	CosignChainAnnotation = "dev.sigstore.cosign/chain"
	// CosignBundleAnnotation holds the Rekor bundle (RekorBundle as JSON).
	CosignBundleAnnotation = "dev.sigstore.cosign/bundle"
)

// OIDFulcioIssuer is Fulcio's certificate extension naming the OIDC issuer,
// as a DER UTF8String.
func OIDFulcioIssuer() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
}

// OIDFulcioIssuerLegacy is the extension older Fulcio certificates name the
// OIDC issuer with, as the raw string.
func OIDFulcioIssuerLegacy() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
}

// RekorBundle is what cosign stores in CosignBundleAnnotation: Rekor's signed
// entry timestamp over the entry it recorded.
type RekorBundle struct {
	// SignedEntryTimestamp is Rekor's signature over the canonical JSON of Payload.
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              RekorBundlePayload
}

// RekorBundlePayload is the recorded entry. Its fields are in the order of
// their JSON names, so json.Marshal writes the canonical JSON (RFC 8785) Rekor
// signs: the values are a base64 string, integers and a hex string, which need
// no escaping.
type RekorBundlePayload struct {
	// Body is the base64 of the entry (a hashedrekord, RekorHashedRekord).
	Body           string `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	// LogID is the hex SHA-256 of the DER public key of the log.
	LogID    string `json:"logID"`
	LogIndex int64  `json:"logIndex"`
}

// RekorHashedRekord is the entry Rekor records for a signature (hashedrekord 0.0.1).
type RekorHashedRekord struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Data struct {
			Hash struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"value"`
			} `json:"hash"`
		} `json:"data"`
		Signature struct {
			// Content is the signature (base64 in JSON).
			Content   []byte `json:"content"`
			PublicKey struct {
				// Content is the PEM certificate (base64 in JSON).
				Content []byte `json:"content"`
			} `json:"publicKey"`
		} `json:"signature"`
	} `json:"spec"`
}

// RekorLogID is the ID of the log whose public key is key: the hex SHA-256 of
// its PKIX DER encoding.
func RekorLogID(key any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// KeylessTrust is what a keyless signature is checked against: the trusted
// Fulcio CAs, the trusted Rekor logs and the accepted signer identities.
type KeylessTrust struct {
	roots      *x509.CertPool
	rekorKeys  map[string]SignatureKey // by log ID
	identities []identityMatch
	// fulcioSource and rekorSource name where the CAs and the log keys come
	// from, for messages.
	fulcioSource, rekorSource string
}

// The Sigstore public-good trust root, from its trusted_root.json: the Fulcio
// root CA "sigstore" (2021-10-07 to 2031-10-05) and intermediate
// "sigstore-intermediate" issuing since 2022-04-13, and the key of the Rekor
// log rekor.sigstore.dev (log ID c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d).
// TestUnitSigstorePublicGoodTrustRoot checks the intermediate is signed by the
// root and the key hashes to that log ID.
var (
	//go:embed sigstore-public-good/fulcio.pem
	publicGoodFulcioPEM string
	//go:embed sigstore-public-good/rekor.pub
	publicGoodRekorPEM string
)

// PublicGoodSource names the built-in Sigstore public-good trust root in messages.
const PublicGoodSource = "the built-in Sigstore public-good trust root"

// PublicGoodKeylessTrust is the trust of provider Keyless without
// trustedRootSecretRef: the Sigstore public-good Fulcio CAs and Rekor log,
// and the matchOIDCIdentity entries.
func PublicGoodKeylessTrust(identities []libv1beta1.OIDCIdentityMatch) (*KeylessTrust, error) {
	return parseKeylessTrust([]byte(publicGoodFulcioPEM), []byte(publicGoodRekorPEM), PublicGoodSource+" (Fulcio)", PublicGoodSource+" (Rekor)", identities)
}

type identityMatch struct {
	issuer, subject *regexp.Regexp
	// issuerPattern and subjectPattern are the expressions as written.
	issuerPattern, subjectPattern string
}

// ParseKeylessTrust builds the trust of provider Keyless from the PEM
// certificates of the Fulcio CAs, the PEM public keys of the Rekor logs and the
// matchOIDCIdentity entries (each regular expression anchored to the whole
// value). Errors name what does not parse.
func ParseKeylessTrust(fulcioPEM, rekorPEM []byte, identities []libv1beta1.OIDCIdentityMatch) (*KeylessTrust, error) {
	return parseKeylessTrust(fulcioPEM, rekorPEM, libv1beta1.TrustedRootFulcioKey, libv1beta1.TrustedRootRekorKey, identities)
}

func parseKeylessTrust(fulcioPEM, rekorPEM []byte, fulcioSource, rekorSource string, identities []libv1beta1.OIDCIdentityMatch) (*KeylessTrust, error) {
	t := &KeylessTrust{roots: x509.NewCertPool(), rekorKeys: map[string]SignatureKey{}, fulcioSource: fulcioSource, rekorSource: rekorSource}
	certs, err := parsePEMCertificates(fulcioPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fulcioSource, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate", fulcioSource)
	}
	for _, c := range certs {
		t.roots.AddCert(c)
	}
	rest := rekorPEM
	for i := 1; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		key, err := ParseSignaturePublicKey(pem.EncodeToMemory(block))
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %w", rekorSource, i, err)
		}
		id, err := RekorLogID(key)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %w", rekorSource, i, err)
		}
		t.rekorKeys[id] = SignatureKey{Source: fmt.Sprintf("Rekor key %d of %s (log ID %s)", i, rekorSource, id), Key: key}
	}
	if len(t.rekorKeys) == 0 {
		return nil, fmt.Errorf("%s holds no PEM public key", rekorSource)
	}
	if len(identities) == 0 {
		return nil, errors.New("matchOIDCIdentity is empty: provider Keyless needs the signer identities to accept")
	}
	for i, m := range identities {
		issuer, err := regexp.Compile(`^(?:` + m.Issuer + `)$`)
		if err != nil {
			return nil, fmt.Errorf("matchOIDCIdentity[%d].issuer %q is not a regular expression: %w", i, m.Issuer, err)
		}
		subject, err := regexp.Compile(`^(?:` + m.Subject + `)$`)
		if err != nil {
			return nil, fmt.Errorf("matchOIDCIdentity[%d].subject %q is not a regular expression: %w", i, m.Subject, err)
		}
		t.identities = append(t.identities, identityMatch{issuer: issuer, subject: subject, issuerPattern: m.Issuer, subjectPattern: m.Subject})
	}
	return t, nil
}

func parsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for i := 1; ; i++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return out, nil
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", i, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", i, err)
		}
		out = append(out, c)
	}
}

// CertificateIdentity is the OIDC issuer and subject (first email, else first
// URI subject alternative name) Fulcio wrote into cert.
func CertificateIdentity(cert *x509.Certificate) (issuer, subject string, err error) {
	current, legacy := OIDFulcioIssuer(), OIDFulcioIssuerLegacy()
	var legacyIssuer string
	for _, ext := range cert.Extensions {
		switch {
		case ext.Id.Equal(current):
			if _, err := asn1.Unmarshal(ext.Value, &issuer); err != nil {
				return "", "", fmt.Errorf("OIDC issuer extension %s is not a UTF8String: %w", current, err)
			}
		case ext.Id.Equal(legacy):
			legacyIssuer = string(ext.Value)
		}
	}
	if issuer == "" {
		issuer = legacyIssuer
	}
	if issuer == "" {
		return "", "", fmt.Errorf("no OIDC issuer extension (%s or %s)", current, legacy)
	}
	switch {
	case len(cert.EmailAddresses) > 0:
		subject = cert.EmailAddresses[0]
	case len(cert.URIs) > 0:
		subject = cert.URIs[0].String()
	default:
		return "", "", errors.New("no email or URI subject alternative name")
	}
	return issuer, subject, nil
}

// verifyKeylessLayer checks a keyless signature layer: sig over payload, the
// certificate, chain and Rekor bundle of annotations. It returns the reason,
// naming the step that failed, or "" when every step passes. The payload's
// content (the digest it names) is checked by the caller.
func (t *KeylessTrust) verifyKeylessLayer(annotations map[string]string, payload, sig []byte) (signer string, reason string) {
	// The certificate and its chain.
	leafs, err := parsePEMCertificates([]byte(annotations[CosignCertificateAnnotation]))
	if err != nil || len(leafs) == 0 {
		if err == nil {
			err = errors.New("missing")
		}
		return "", fmt.Sprintf("certificate: annotation %s: %v", CosignCertificateAnnotation, err)
	}
	leaf := leafs[0]
	chain, err := parsePEMCertificates([]byte(annotations[CosignChainAnnotation]))
	if err != nil {
		return "", fmt.Sprintf("certificate chain: annotation %s: %v", CosignChainAnnotation, err)
	}
	// The Rekor bundle gives the time the signature was made.
	bundleJSON := annotations[CosignBundleAnnotation]
	if bundleJSON == "" {
		return "", fmt.Sprintf("Rekor bundle: no %s annotation (the signature was not recorded in a transparency log)", CosignBundleAnnotation)
	}
	var bundle RekorBundle
	if err := json.Unmarshal([]byte(bundleJSON), &bundle); err != nil {
		return "", fmt.Sprintf("Rekor bundle: annotation %s is not a Rekor bundle: %v", CosignBundleAnnotation, err)
	}
	signedAt := time.Unix(bundle.Payload.IntegratedTime, 0).UTC()

	// (a) the certificate chains to a trusted Fulcio CA at integratedTime and
	// allows code signing.
	if signedAt.Before(leaf.NotBefore) || signedAt.After(leaf.NotAfter) {
		return "", fmt.Sprintf("certificate validity: Rekor recorded the signature at %s, outside the certificate's validity %s to %s", signedAt.Format(time.RFC3339), leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain {
		intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         t.roots,
		Intermediates: intermediates,
		CurrentTime:   signedAt,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}); err != nil {
		return "", fmt.Sprintf("certificate chain: the certificate (issued by %q) does not chain to a Fulcio CA of %s at %s: %v", leaf.Issuer.String(), t.fulcioSource, signedAt.Format(time.RFC3339), err)
	}

	// (b) the identity.
	issuer, subject, err := CertificateIdentity(leaf)
	if err != nil {
		return "", fmt.Sprintf("identity: %v", err)
	}
	signer = fmt.Sprintf("%s (issuer %s)", subject, issuer)
	if !t.identityAccepted(issuer, subject) {
		return signer, fmt.Sprintf("identity: the signer %s (issuer %s) matches no entry of matchOIDCIdentity %s", subject, issuer, t.identityList())
	}

	// (c) the signature over the payload, with the certificate's key.
	if !verifyPayloadSignature(leaf.PublicKey, payload, sig) {
		return signer, "payload signature: the signature does not verify with the certificate's public key"
	}

	// (d) Rekor's signed entry timestamp and the recorded entry.
	if reason := t.verifyRekorBundle(bundle, leaf, payload, sig); reason != "" {
		return signer, reason
	}
	return signer, ""
}

// identityList is matchOIDCIdentity as written, for messages.
func (t *KeylessTrust) identityList() string {
	parts := make([]string, len(t.identities))
	for i, m := range t.identities {
		parts[i] = fmt.Sprintf("{issuer: %s, subject: %s}", m.issuerPattern, m.subjectPattern)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (t *KeylessTrust) identityAccepted(issuer, subject string) bool {
	for _, m := range t.identities {
		if m.issuer.MatchString(issuer) && m.subject.MatchString(subject) {
			return true
		}
	}
	return false
}

// verifyRekorBundle checks the bundle's signed entry timestamp with the trusted
// Rekor key of its log ID, and that the entry it signs records this very
// signature, certificate and payload.
func (t *KeylessTrust) verifyRekorBundle(bundle RekorBundle, leaf *x509.Certificate, payload, sig []byte) string {
	key, ok := t.rekorKeys[bundle.Payload.LogID]
	if !ok {
		return fmt.Sprintf("Rekor bundle: log ID %s is not the ID of a Rekor key of %s", bundle.Payload.LogID, t.rekorSource)
	}
	canonical, err := json.Marshal(bundle.Payload)
	if err != nil {
		return fmt.Sprintf("Rekor bundle: %v", err)
	}
	if !verifyPayloadSignature(key.Key, canonical, bundle.SignedEntryTimestamp) {
		return fmt.Sprintf("Rekor bundle: the signed entry timestamp does not verify with %s", key.Source)
	}
	body, err := base64.StdEncoding.DecodeString(bundle.Payload.Body)
	if err != nil {
		return "Rekor entry: the body is not base64"
	}
	var entry RekorHashedRekord
	if err := json.Unmarshal(body, &entry); err != nil {
		return fmt.Sprintf("Rekor entry: not a hashedrekord entry: %v", err)
	}
	if entry.Kind != "hashedrekord" {
		return fmt.Sprintf("Rekor entry: kind %q, this version of Tugboat checks hashedrekord entries", entry.Kind)
	}
	sum := sha256.Sum256(payload)
	if entry.Spec.Data.Hash.Algorithm != "sha256" || entry.Spec.Data.Hash.Value != hex.EncodeToString(sum[:]) {
		return fmt.Sprintf("Rekor entry: records the hash %s:%s, not the payload's sha256:%x", entry.Spec.Data.Hash.Algorithm, entry.Spec.Data.Hash.Value, sum)
	}
	if !bytes.Equal(entry.Spec.Signature.Content, sig) {
		return "Rekor entry: records another signature than the layer's"
	}
	recorded, err := parsePEMCertificates(entry.Spec.Signature.PublicKey.Content)
	if err != nil || len(recorded) == 0 || !bytes.Equal(recorded[0].Raw, leaf.Raw) {
		return "Rekor entry: records another certificate than the layer's"
	}
	return ""
}
