package testenv

import (
	"context"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/examples"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// CreateObjects creates every document of a YAML/JSON manifest, in order. With
// ignoreExisting, objects that already exist are left as they are.
func CreateObjects(ctx context.Context, c client.Client, manifest []byte, ignoreExisting bool) error {
	objs, err := templating.SplitDocuments("manifest", string(manifest))
	if err != nil {
		return err
	}
	for _, obj := range objs {
		err := c.Create(ctx, obj)
		if err != nil && !(ignoreExisting && apierrors.IsAlreadyExists(err)) {
			return fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

// Fixture is one of the database-as-a-service tutorial's manifests (examples/dbaas).
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := examples.DBaaSManifest(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
