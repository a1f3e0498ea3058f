package helm

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha512" // SHA-384 and SHA-512 for crypto.Hash.New
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"helm.sh/helm/v4/pkg/registry"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// Cosign's signature layout (the tag-based one cosign sign --key writes): the
// signature of the manifest sha256:<hex> is an OCI manifest tagged
// sha256-<hex>.sig in the same repository; each of its layers of media type
// CosignPayloadMediaType is a simple-signing payload naming the signed
// manifest's digest, and the layer's annotation CosignSignatureAnnotation holds
// the base64 signature over that payload.
const (
	// CosignPayloadMediaType is the media type of a simple-signing payload layer.
	CosignPayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// CosignSignatureAnnotation is the layer annotation holding the base64 signature.
	CosignSignatureAnnotation = "dev.cosignproject.cosign/signature"
	// CosignSignatureType is the payload's critical.type.
	CosignSignatureType = "cosign container image signature"
)

// ErrSignature is wrapped by every failure of signatureVerification: no
// signature, a signature by a key that is not trusted, a signature for another
// digest.
var ErrSignature = errors.New("signature verification failed")

// SimpleSigningPayload is the document a Cosign signature signs.
type SimpleSigningPayload struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional,omitempty"`
}

// CosignSignatureTag is the tag under which cosign stores the signature of the
// manifest with digest ("sha256:<hex>").
func CosignSignatureTag(digest string) string {
	return strings.Replace(digest, ":", "-", 1) + ".sig"
}

// SignatureKey is a public key trusted by signatureVerification, with where it
// came from (for messages).
type SignatureKey struct {
	// Source is "Secret <namespace>/<name> key <key>".
	Source string
	Key    crypto.PublicKey
}

// ParseSignaturePublicKey reads a PEM public key (PKIX "PUBLIC KEY", as cosign
// generate-key-pair writes cosign.pub): ECDSA, RSA or Ed25519.
func ParseSignaturePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM public key (no PEM block)")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("not a PEM public key (a PEM block of type %q; want PUBLIC KEY)", block.Type)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PEM public key: %w", err)
	}
	switch key.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T (want ECDSA, RSA or Ed25519)", key)
}

// verifyPayloadSignature checks sig over payload with key, accepting what
// cosign produces. cosign signs with sigstore's default algorithm for the key
// (signature.LoadDefaultSignerVerifier): ECDSA over the digest the curve calls
// for — SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521 — as an ASN.1
// signature, RSA PKCS #1 v1.5 over SHA-256, Ed25519 pre-hashed with SHA-512
// (Ed25519ph). cosign verify, without --signature-digest-algorithm, checks
// every key against SHA-256, and older cosign signed ECDSA keys of every curve
// and pure Ed25519 that way: those signatures are accepted too. Each accepted
// form is a signature the key's holder made over these exact bytes.
func verifyPayloadSignature(key crypto.PublicKey, payload, sig []byte) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		for _, h := range ecdsaHashes(k) {
			if ecdsa.VerifyASN1(k, payloadDigest(h, payload), sig) {
				return true
			}
		}
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, payloadDigest(crypto.SHA256, payload), sig) == nil
	case ed25519.PublicKey:
		if ed25519.VerifyWithOptions(k, payloadDigest(crypto.SHA512, payload), sig, &ed25519.Options{Hash: crypto.SHA512}) == nil {
			return true
		}
		return ed25519.Verify(k, payload, sig)
	}
	return false
}

// ecdsaHashes are the digests an ECDSA signature of cosign may be over: the
// curve's own (sigstore's default for the key), then SHA-256.
func ecdsaHashes(k *ecdsa.PublicKey) []crypto.Hash {
	switch k.Curve.Params().BitSize {
	case 384:
		return []crypto.Hash{crypto.SHA384, crypto.SHA256}
	case 521:
		return []crypto.Hash{crypto.SHA512, crypto.SHA256}
	}
	return []crypto.Hash{crypto.SHA256}
}

// CosignHash is the digest cosign signs a payload with for key (sigstore's
// default algorithm for it): SHA-384 for ECDSA P-384, SHA-512 for ECDSA P-521
// and Ed25519 (Ed25519ph), SHA-256 otherwise.
func CosignHash(key crypto.PublicKey) crypto.Hash {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		return ecdsaHashes(k)[0]
	case ed25519.PublicKey:
		return crypto.SHA512
	}
	return crypto.SHA256
}

func payloadDigest(h crypto.Hash, payload []byte) []byte {
	d := h.New()
	d.Write(payload)
	return d.Sum(nil)
}

// ociRepository is the remote repository of ref's chart, reached with a's
// credentials and trust settings.
func (s *chartSource) ociRepository(ref chartRef, a Access) (*remote.Repository, error) {
	name := strings.TrimPrefix(ref.repoURL, "oci://") + "/" + ref.chart
	repo, err := remote.NewRepository(name)
	if err != nil {
		return nil, fmt.Errorf("OCI repository %s: %w", name, err)
	}
	hc, err := a.httpClient(s.httpClient)
	if err != nil {
		return nil, err
	}
	ac := &auth.Client{Client: hc, Cache: auth.NewCache()}
	if a.Username != "" || a.Password != "" {
		ac.Credential = auth.StaticCredential(repo.Reference.Host(), auth.Credential{Username: a.Username, Password: a.Password})
	}
	repo.Client = ac
	repo.PlainHTTP = s.plainHTTP || a.PlainHTTP
	return repo, nil
}

// ociTag is the tag of ref's version (OCI tags cannot hold "+": Helm pushes such
// versions with "_").
func ociTag(ref chartRef) string { return strings.ReplaceAll(ref.version, "+", "_") }

// resolveSigned resolves ref's tag to the chart manifest's descriptor and
// checks its Cosign signature (a.SignatureKeys or a.Keyless). Only then may the chart be
// pulled, by that descriptor.
func (s *chartSource) resolveSigned(ctx context.Context, repo *remote.Repository, ref chartRef, a Access) (ocispec.Descriptor, error) {
	desc, err := repo.Resolve(ctx, ociTag(ref))
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	if err := VerifyCosignSignature(ctx, repo, desc.Digest.String(), a); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("chart %s (manifest %s): %w", ref, desc.Digest, err)
	}
	return desc, nil
}

// VerifyCosignSignature finds the Cosign signatures of the manifest digest in
// repo and accepts when one of them is valid for a (made by one of
// a.SignatureKeys, or keyless against a.Keyless) over a payload naming digest.
// Every failure wraps ErrSignature and gives each signature's reason.
func VerifyCosignSignature(ctx context.Context, repo *remote.Repository, digest string, a Access) error {
	tag := CosignSignatureTag(digest)
	sigDesc, err := repo.Resolve(ctx, tag)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return fmt.Errorf("%w: the chart is not signed: the repository has no Cosign signature %s:%s", ErrSignature, repo.Reference.Repository, tag)
		}
		return fmt.Errorf("%w: resolve signature %s: %v", ErrSignature, tag, err)
	}
	raw, err := content.FetchAll(ctx, repo, sigDesc)
	if err != nil {
		return fmt.Errorf("%w: fetch signature manifest %s: %v", ErrSignature, tag, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%w: signature manifest %s is not an OCI manifest: %v", ErrSignature, tag, err)
	}
	var reasons []string
	checked := 0
	for i, layer := range m.Layers {
		if layer.MediaType != CosignPayloadMediaType {
			continue
		}
		checked++
		reason, ok := checkSignatureLayer(ctx, repo, layer, digest, a)
		if ok {
			return nil
		}
		reasons = append(reasons, fmt.Sprintf("signature %d: %s", i, reason))
	}
	if checked == 0 {
		return fmt.Errorf("%w: %s holds no Cosign signature layer (%s)", ErrSignature, tag, CosignPayloadMediaType)
	}
	return fmt.Errorf("%w: %s", ErrSignature, strings.Join(reasons, "; "))
}

// checkSignatureLayer verifies one signature layer: the signature over the
// payload (by one of a's keys, or keyless against a's trust), and the payload
// naming digest.
func checkSignatureLayer(ctx context.Context, repo *remote.Repository, layer ocispec.Descriptor, digest string, a Access) (string, bool) {
	sigB64 := layer.Annotations[CosignSignatureAnnotation]
	if sigB64 == "" {
		return "no " + CosignSignatureAnnotation + " annotation", false
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return "the signature annotation is not base64", false
	}
	payload, err := content.FetchAll(ctx, repo, layer)
	if err != nil {
		return fmt.Sprintf("fetch payload %s: %v", layer.Digest, err), false
	}
	var signer string
	if a.Keyless != nil {
		var reason string
		signer, reason = a.Keyless.verifyKeylessLayer(layer.Annotations, payload, sig)
		if reason != "" {
			return "keyless: " + reason, false
		}
		signer = "the certificate of " + signer
	} else {
		for i := range a.SignatureKeys {
			if verifyPayloadSignature(a.SignatureKeys[i].Key, payload, sig) {
				signer = a.SignatureKeys[i].Source
				break
			}
		}
		if signer == "" {
			return "not made by a trusted public key of signatureVerification.secretRef", false
		}
	}
	return checkSignedPayload(payload, digest, signer)
}

// checkSignedPayload checks that the signed payload is a simple-signing
// document naming digest; signer says who signed it (for the message).
func checkSignedPayload(payload []byte, digest, signer string) (string, bool) {
	var p SimpleSigningPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Sprintf("the signed payload is not simple-signing JSON: %v", err), false
	}
	if p.Critical.Type != CosignSignatureType {
		return fmt.Sprintf("the signed payload's critical.type is %q, not %q", p.Critical.Type, CosignSignatureType), false
	}
	if got := p.Critical.Image.DockerManifestDigest; got != digest {
		return fmt.Sprintf("signed by %s for manifest %s, not for this chart's manifest %s (the chart was replaced or tampered with after it was signed)", signer, got, digest), false
	}
	return "", true
}

// pullChartLayer fetches the chart archive of the manifest desc (contents are
// checked against their digests as they are read).
func pullChartLayer(ctx context.Context, repo *remote.Repository, ref chartRef, desc ocispec.Descriptor) ([]byte, error) {
	raw, err := content.FetchAll(ctx, repo, desc)
	if err != nil {
		return nil, fmt.Errorf("fetch manifest of %s: %w", ref, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", ref, err)
	}
	for _, layer := range m.Layers {
		if layer.MediaType == registry.ChartLayerMediaType {
			data, err := content.FetchAll(ctx, repo, layer)
			if err != nil {
				return nil, fmt.Errorf("fetch chart layer of %s: %w", ref, err)
			}
			return data, nil
		}
	}
	return nil, fmt.Errorf("pull %s: no chart layer (%s)", ref, registry.ChartLayerMediaType)
}
