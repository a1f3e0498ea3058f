package helm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// cosign sign signs with sigstore's default algorithm for the key
// (signature.LoadDefaultSignerVerifier in sigstore/sigstore pkg/signature,
// its table in algorithm_registry.go): ECDSA P-256 over SHA-256, P-384 over
// SHA-384, P-521 over SHA-512, RSA PKCS #1 v1.5 over SHA-256, Ed25519 as
// Ed25519ph (SHA-512). cosign verify checks keys against SHA-256 by default,
// which older cosign signed every ECDSA curve with. Each signature below is made
// the way one of them makes it; all are accepted by the key that made them, and
// refused over other bytes, by another key of the same kind, or over a digest
// cosign never uses for the curve.
func TestUnitCosignKeyAlgorithms(t *testing.T) {
	payload := []byte(`{"critical":{"identity":{"docker-reference":"r/c"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}`)
	ecdsaKey := func(c elliptic.Curve) crypto.Signer {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rsaKey := func() crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	edKey := func() crypto.Signer {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// sign signs payload's digest h (0: Ed25519 over the payload itself;
	// ed25519ph: Ed25519ph over its SHA-512).
	sign := func(key crypto.Signer, h crypto.Hash, ed25519ph bool, payload []byte) []byte {
		t.Helper()
		var sig []byte
		var err error
		switch {
		case ed25519ph:
			sig, err = key.Sign(rand.Reader, payloadDigest(crypto.SHA512, payload), &ed25519.Options{Hash: crypto.SHA512})
		case h == 0:
			sig, err = key.Sign(rand.Reader, payload, crypto.Hash(0))
		default:
			sig, err = key.Sign(rand.Reader, payloadDigest(h, payload), h)
		}
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	for _, c := range []struct {
		name      string
		key       func() crypto.Signer
		hash      crypto.Hash
		ed25519ph bool
		accepted  bool
	}{
		{"P-256 SHA-256 (cosign sign)", func() crypto.Signer { return ecdsaKey(elliptic.P256()) }, crypto.SHA256, false, true},
		{"P-384 SHA-384 (cosign sign)", func() crypto.Signer { return ecdsaKey(elliptic.P384()) }, crypto.SHA384, false, true},
		{"P-521 SHA-512 (cosign sign)", func() crypto.Signer { return ecdsaKey(elliptic.P521()) }, crypto.SHA512, false, true},
		{"P-384 SHA-256 (cosign verify's default, older cosign sign)", func() crypto.Signer { return ecdsaKey(elliptic.P384()) }, crypto.SHA256, false, true},
		{"P-521 SHA-256 (cosign verify's default, older cosign sign)", func() crypto.Signer { return ecdsaKey(elliptic.P521()) }, crypto.SHA256, false, true},
		{"RSA SHA-256 (cosign sign)", rsaKey, crypto.SHA256, false, true},
		{"Ed25519ph (cosign sign)", edKey, 0, true, true},
		{"Ed25519 pure (older cosign sign)", edKey, 0, false, true},
		{"P-256 SHA-512 (not cosign's)", func() crypto.Signer { return ecdsaKey(elliptic.P256()) }, crypto.SHA512, false, false},
		{"P-384 SHA-512 (not cosign's)", func() crypto.Signer { return ecdsaKey(elliptic.P384()) }, crypto.SHA512, false, false},
		{"RSA SHA-512 (not cosign's)", rsaKey, crypto.SHA512, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := c.key()
			sig := sign(key, c.hash, c.ed25519ph, payload)
			if got := verifyPayloadSignature(key.Public(), payload, sig); got != c.accepted {
				t.Fatalf("accepted = %v, want %v", got, c.accepted)
			}
			if !c.accepted {
				return
			}
			if verifyPayloadSignature(key.Public(), append([]byte(" "), payload...), sig) {
				t.Error("a signature over other bytes is accepted")
			}
			if verifyPayloadSignature(c.key().Public(), payload, sig) {
				t.Error("another key of the same kind accepts the signature")
			}
		})
	}
	// CosignHash is what chartrepo signs with, as cosign sign does.
	for _, c := range []struct {
		key  crypto.Signer
		want crypto.Hash
	}{
		{ecdsaKey(elliptic.P256()), crypto.SHA256}, {ecdsaKey(elliptic.P384()), crypto.SHA384},
		{ecdsaKey(elliptic.P521()), crypto.SHA512}, {edKey(), crypto.SHA512},
	} {
		if got := CosignHash(c.key.Public()); got != c.want {
			t.Errorf("CosignHash(%T) = %v, want %v", c.key.Public(), got, c.want)
		}
	}
}
