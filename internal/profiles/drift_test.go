package profiles_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// With ContinuousWithDriftDetection, an object deleted or changed in the managed
// cluster is restored from the management plane's own watch; a path listed in
// driftExclusions is left to whoever changed it.
func TestDriftIsRepaired(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "drift-cm", `{"apiVersion": "apps/v1", "kind": "Deployment",
	  "metadata": {"name": "web", "namespace": "drift"},
	  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
	    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "drift"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"drift": "yes"}
	p.Spec.SyncMode = libv1beta1.SyncModeContinuousWithDriftDetection
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "drift-cm"}}
	p.Spec.DriftExclusions = []libv1beta1.DriftExclusion{{Paths: []string{"/spec/replicas"}}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"drift": "yes"})
	waitSummary(t, "drift", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	app1 := managedClient(t, "app-1")
	key := types.NamespacedName{Namespace: "drift", Name: "web"}
	image := func(want string) func() error {
		return func() error {
			d := &appsv1.Deployment{}
			if err := app1.Get(ctx, key, d); err != nil {
				return err
			}
			if got := d.Spec.Template.Spec.Containers[0].Image; got != want {
				return fmt.Errorf("image %q, want %q", got, want)
			}
			return nil
		}
	}
	testenv.Eventually(t, "deployed", image("nginx:1.27"))
	// The watch is the registry's, shared with every other user of the cluster's
	// watches, and holds only the objects Tugboat deployed.
	watched := clusters.WatchKey{Cluster: libv1beta1.SveltosClusterID("fleet", "app-1"),
		GVK: appsv1.SchemeGroupVersion.WithKind("Deployment"), LabelSelector: libv1beta1.ReasonLabel}
	if !slices.Contains(mgr.Registry.Watches().Keys(), watched) {
		t.Fatalf("no drift watch %s among the registry's watches %v", watched, mgr.Registry.Watches().Keys())
	}

	// Deleted → restored.
	if err := app1.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "drift", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "restored after deletion", image("nginx:1.27"))

	// A managed field changed → restored; an excluded field changed → kept.
	d := &appsv1.Deployment{}
	if err := app1.Get(ctx, key, d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "nginx:hacked"
	d.Spec.Replicas = ptr.To[int32](5)
	if err := app1.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "image restored", image("nginx:1.27"))
	if err := app1.Get(ctx, key, d); err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 5 {
		t.Errorf("excluded /spec/replicas was reset to %d", *d.Spec.Replicas)
	}
}
