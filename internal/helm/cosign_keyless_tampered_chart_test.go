package helm_test

import (
	"testing"
	"time"

	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// A valid keyless signature (accepted identity, trusted CA, recorded in the
// trusted log) made for another manifest is refused: the chart under the tag
// is not the one that was signed.
func TestKeylessTamperedChart(t *testing.T) {
	f := newKeylessFixture(t)
	f.sign(f.otherDigest, chartrepo.KeylessSignature{Signer: f.issue(f.ca, keylessSubject, f.now.Add(-time.Minute)), Log: f.log, IntegratedTime: f.now})
	wantRefused(t, f.verify(f.access()), "for manifest "+f.otherDigest, "not for this chart's manifest "+f.digest, "tampered")
}
