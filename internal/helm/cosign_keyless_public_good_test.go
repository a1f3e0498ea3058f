package helm

import (
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// The built-in Sigstore public-good trust root is intact: its two Fulcio
// certificates are the self-signed root "sigstore" and the intermediate
// "sigstore-intermediate" it signed, for code signing; its Rekor key is the
// one whose log ID is rekor.sigstore.dev's, c0d23d6a…801d (the ID Rekor
// bundles of the public-good log carry). A single changed byte breaks a
// signature or the hash.
func TestUnitSigstorePublicGoodTrustRoot(t *testing.T) {
	certs, err := parsePEMCertificates([]byte(publicGoodFulcioPEM))
	if err != nil || len(certs) != 2 {
		t.Fatalf("fulcio.pem: %d certificates, err %v; want 2", len(certs), err)
	}
	root, inter := certs[0], certs[1]
	if root.Subject.CommonName != "sigstore" || inter.Subject.CommonName != "sigstore-intermediate" {
		t.Fatalf("subjects %q and %q", root.Subject, inter.Subject)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Errorf("the root's self-signature: %v", err)
	}
	if err := inter.CheckSignatureFrom(root); err != nil {
		t.Errorf("the intermediate is not signed by the root: %v", err)
	}
	trust, err := PublicGoodKeylessTrust([]libv1beta1.OIDCIdentityMatch{{Issuer: ".*", Subject: ".*"}})
	if err != nil {
		t.Fatal(err)
	}
	const publicGoodLogID = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
	if _, ok := trust.rekorKeys[publicGoodLogID]; !ok || len(trust.rekorKeys) != 1 {
		t.Errorf("Rekor keys %v, want exactly log %s", trust.rekorKeys, publicGoodLogID)
	}
}
