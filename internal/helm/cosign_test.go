package helm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// The public keys signatureVerification reads: PEM PUBLIC KEY blocks of
// ECDSA, RSA or Ed25519 keys; anything else is refused with a precise reason.
func TestUnitParseSignaturePublicKey(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(ec.Public())
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string // part of the error; empty: parses
	}{
		{"ecdsa", pemOf(t, "PUBLIC KEY", ecDER), ""},
		{"not PEM", []byte("ssh-ed25519 AAAA"), "no PEM block"},
		{"private key", pemOf(t, "PRIVATE KEY", ecPriv), `type "PRIVATE KEY"`},
		{"garbage DER", pemOf(t, "PUBLIC KEY", []byte("garbage")), "not a PEM public key"},
	} {
		_, err := ParseSignaturePublicKey(c.data)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// Signatures are checked as cosign makes them, per key type; a signature
// over other bytes or by another key is refused.
func TestUnitVerifyPayloadSignature(t *testing.T) {
	payload := []byte(`{"critical":{"image":{"docker-manifest-digest":"sha256:00"}}}`)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sum := sha256.Sum256(payload)
	for _, c := range []struct {
		name string
		key  crypto.Signer
	}{{"ecdsa", ec}, {"rsa", rk}, {"ed25519", ed}} {
		var sig []byte
		var err error
		if c.name == "ed25519" {
			sig, err = c.key.Sign(rand.Reader, payload, crypto.Hash(0))
		} else {
			sig, err = c.key.Sign(rand.Reader, sum[:], crypto.SHA256)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !verifyPayloadSignature(c.key.Public(), payload, sig) {
			t.Errorf("%s: a genuine signature is refused", c.name)
		}
		if verifyPayloadSignature(c.key.Public(), append([]byte{' '}, payload...), sig) {
			t.Errorf("%s: a signature over other bytes is accepted", c.name)
		}
		if verifyPayloadSignature(other.Public(), payload, sig) {
			t.Errorf("%s: another key accepts the signature", c.name)
		}
	}
	if got := CosignSignatureTag("sha256:abc"); got != "sha256-abc.sig" {
		t.Errorf("CosignSignatureTag = %q", got)
	}
}
