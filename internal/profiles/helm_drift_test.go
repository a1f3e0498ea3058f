package profiles_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// With ContinuousWithDriftDetection, a Helm-installed object deleted or changed
// in the managed cluster is restored by re-applying its release.
func TestHelmDriftIsRepaired(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.Start(t, filepath.Join("..", "..", "test", "charts"))
	const release, ns = "drift-pg", "helm-extra-drift"
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "helm-extra-drift"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"helm-extra-drift": "yes"}
	p.Spec.SyncMode = libv1beta1.SyncModeContinuousWithDriftDetection
	p.Spec.HelmCharts = []libv1beta1.HelmChart{extraChart(repo.URL, release, ns)}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"helm-extra-drift": "yes"})
	waitSummary(t, "helm-extra-drift", "app-1", helmStatus(libv1beta1.FeatureStatusProvisioned))

	app1 := managedClient(t, "app-1")
	key := types.NamespacedName{Namespace: ns, Name: release + "-cloudnative-pg"}
	d := &appsv1.Deployment{}
	testenv.Eventually(t, "Deployment installed", func() error { return app1.Get(ctx, key, d) })
	image := d.Spec.Template.Spec.Containers[0].Image

	// Deleted → restored (a new object).
	uid := d.UID
	if err := app1.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "Deployment restored after deletion", func() error {
		d = &appsv1.Deployment{}
		if err := app1.Get(ctx, key, d); err != nil {
			return err
		}
		if d.UID == uid {
			return fmt.Errorf("still the deleted object")
		}
		return nil
	})

	// Changed → restored.
	d.Spec.Template.Spec.Containers[0].Image = "example.com/hacked:1"
	if err := app1.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "image restored", func() error {
		d := &appsv1.Deployment{}
		if err := app1.Get(ctx, key, d); err != nil {
			return err
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
			return fmt.Errorf("image %q, want %q", got, image)
		}
		return nil
	})
	waitSummary(t, "helm-extra-drift", "app-1", helmStatus(libv1beta1.FeatureStatusProvisioned))
}
