package chartrepo

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/tugboat-dev/tugboat/internal/helm"
)

// Cosign signing, as cosign sign --key does it for a chart pushed to this
// server's OCI side: a simple-signing payload naming the chart manifest's
// digest, signed with the key, pushed as the layer of a manifest tagged
// sha256-<digest>.sig in the chart's repository.

// PublicKeyPEM is key as a PEM "PUBLIC KEY" block (the form of cosign.pub).
func PublicKeyPEM(key crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// OCIRepository is the repository of chart on the server's OCI side (plain HTTP),
// to push to or resolve tags in with the OCI client Helm uses.
func (s *Server) OCIRepository(chart string) (*remote.Repository, error) {
	repo, err := remote.NewRepository(strings.TrimPrefix(s.OCIURL, "oci://") + "/" + chart)
	if err != nil {
		return nil, err
	}
	repo.PlainHTTP = true
	return repo, nil
}

// OCIManifestDigest is the digest of the manifest chart:version resolves to.
func (s *Server) OCIManifestDigest(ctx context.Context, chart, version string) (string, error) {
	repo, err := s.OCIRepository(chart)
	if err != nil {
		return "", err
	}
	desc, err := repo.Resolve(ctx, strings.ReplaceAll(version, "+", "_"))
	if err != nil {
		return "", fmt.Errorf("resolve %s:%s: %w", chart, version, err)
	}
	return desc.Digest.String(), nil
}

// CosignSign stores in chart's repository, under the signature tag of
// manifestDigest, a Cosign signature made with key over a payload naming
// signedDigest. A genuine signature has signedDigest == manifestDigest; a
// different one is a signature copied from another manifest (a replaced chart).
// key is an ECDSA, RSA or Ed25519 private key.
func (s *Server) CosignSign(ctx context.Context, chart, manifestDigest, signedDigest string, key crypto.Signer) error {
	payload, err := s.signingPayload(chart, signedDigest)
	if err != nil {
		return err
	}
	sig, err := signPayload(key, payload)
	if err != nil {
		return err
	}
	return s.pushSignature(ctx, chart, manifestDigest, payload, map[string]string{helm.CosignSignatureAnnotation: base64.StdEncoding.EncodeToString(sig)})
}

// signingPayload is the simple-signing payload naming signedDigest in chart's repository.
func (s *Server) signingPayload(chart, signedDigest string) ([]byte, error) {
	var p helm.SimpleSigningPayload
	p.Critical.Identity.DockerReference = strings.TrimPrefix(s.OCIURL, "oci://") + "/" + chart
	p.Critical.Image.DockerManifestDigest = signedDigest
	p.Critical.Type = helm.CosignSignatureType
	return json.Marshal(p)
}

// pushSignature pushes payload as the layer, with annotations, of a manifest
// tagged with the signature tag of manifestDigest in chart's repository.
func (s *Server) pushSignature(ctx context.Context, chart, manifestDigest string, payload []byte, annotations map[string]string) error {
	repo, err := s.OCIRepository(chart)
	if err != nil {
		return err
	}
	config := []byte("{}")
	configDesc := ocispec.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: digest.FromBytes(config), Size: int64(len(config))}
	layerDesc := ocispec.Descriptor{
		MediaType:   helm.CosignPayloadMediaType,
		Digest:      digest.FromBytes(payload),
		Size:        int64(len(payload)),
		Annotations: annotations,
	}
	for _, b := range []struct {
		desc ocispec.Descriptor
		data []byte
	}{{configDesc, config}, {layerDesc, payload}} {
		if err := repo.Push(ctx, b.desc, bytes.NewReader(b.data)); err != nil {
			return fmt.Errorf("push signature blob: %w", err)
		}
	}
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	if err != nil {
		return err
	}
	manifestDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(manifest), Size: int64(len(manifest))}
	if err := repo.PushReference(ctx, manifestDesc, bytes.NewReader(manifest), helm.CosignSignatureTag(manifestDigest)); err != nil {
		return fmt.Errorf("push signature manifest: %w", err)
	}
	return nil
}

// signPayload signs as cosign sign does (sigstore's default algorithm for the
// key, helm.CosignHash): ECDSA over the digest its curve calls for, RSA PKCS #1
// v1.5 over SHA-256, Ed25519 pre-hashed with SHA-512 (Ed25519ph).
func signPayload(key crypto.Signer, payload []byte) ([]byte, error) {
	h := helm.CosignHash(key.Public())
	d := h.New()
	d.Write(payload)
	if _, ok := key.Public().(ed25519.PublicKey); ok {
		return key.Sign(rand.Reader, d.Sum(nil), &ed25519.Options{Hash: crypto.SHA512})
	}
	return key.Sign(rand.Reader, d.Sum(nil), h)
}
