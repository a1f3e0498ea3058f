package helm_test

import (
	"context"
	"testing"
	"time"

	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// The Rekor bundle must be signed by a trusted log: a signed entry timestamp
// made by another log's key is refused (its log ID is not trusted), and so is
// one made by another key under the trusted log's ID; a signature layer
// without a bundle (never recorded in a transparency log) is refused too.
func TestKeylessRekorBundle(t *testing.T) {
	f := newKeylessFixture(t)
	signer := f.issue(f.ca, keylessSubject, f.now.Add(-time.Minute))

	f.sign(f.digest, chartrepo.KeylessSignature{Signer: signer, Log: newRekorLog(t), IntegratedTime: f.now})
	wantRefused(t, f.verify(f.access()), "keyless: Rekor bundle", "is not the ID of a Rekor key of rekor.pub")

	impostor := newRekorLog(t)
	impostor.LogID = f.log.LogID
	f.sign(f.digest, chartrepo.KeylessSignature{Signer: signer, Log: impostor, IntegratedTime: f.now})
	wantRefused(t, f.verify(f.access()), "keyless: Rekor bundle", "signed entry timestamp does not verify")

	// The same signer, recorded by the trusted log, is accepted.
	f.sign(f.digest, chartrepo.KeylessSignature{Signer: signer, Log: f.log, IntegratedTime: f.now})
	if err := f.verify(f.access()); err != nil {
		t.Fatalf("recorded signature refused: %v", err)
	}

	if err := f.server.CosignSign(context.Background(), keylessChart, f.digest, f.digest, signer.Key); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.verify(f.access()), "keyless: certificate", helm.CosignCertificateAnnotation)
}
