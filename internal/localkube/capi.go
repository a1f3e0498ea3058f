package localkube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tugboat-dev/tugboat/config/crd"
)

// CAPICRDsDir is where hack/test-binaries.sh puts Cluster API's Cluster CRD
// (from the sigs.k8s.io/cluster-api module), inside the bin folder.
const CAPICRDsDir = "capi-crds"

// InstallClusterAPICRDs installs Cluster API's Cluster CRD into the management
// cluster, for tests and demos that play Cluster API (nothing runs its controllers).
func (e *Env) InstallClusterAPICRDs(ctx context.Context) error {
	dir := filepath.Join(e.binDir, CAPICRDsDir)
	if !fileExists(dir) {
		return fmt.Errorf("localkube: Cluster API's CRDs are not in %s: fetch them with `make testbin` in a Tugboat checkout", e.binDir)
	}
	crds, err := crd.Read(os.DirFS(dir), "*.yaml")
	if err != nil {
		return fmt.Errorf("localkube: reading Cluster API's CRDs in %s: %w", dir, err)
	}
	if err := crd.Apply(ctx, e.Management().Config, crds); err != nil {
		return fmt.Errorf("localkube: installing Cluster API's CRDs: %w", err)
	}
	return nil
}
