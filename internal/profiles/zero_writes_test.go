package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A resync with nothing changed costs no write to the managed cluster: the
// feature hash is equal, so the summary is not even re-applied.
func TestResyncWithoutChangeWritesNothing(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "steady-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "steady", "namespace": "steady"}, "data": {"a": "b"}}`)
	clusterProfile(t, "steady", "steady", "yes", 100, "", "steady-cm")
	setLabels(t, "app-2", map[string]string{"steady": "yes"})
	waitSummary(t, "steady", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))

	conn, err := mgr.Registry.Get(ctx, libv1beta1.SveltosClusterID("fleet", "app-2"))
	if err != nil {
		t.Fatal(err)
	}
	before := conn.Writes()

	// Touch the referenced ConfigMap without changing what it deploys: the summary is
	// reconciled again (the label is not part of the content).
	cm := &corev1.ConfigMap{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "default", Name: "steady-cm"}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Labels = map[string]string{"touched": "yes"}
	if err := mgmt.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	// Then a real change, which must write: once it arrived, the touch before it was processed too.
	cm.Data["object.yaml"] = `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "steady", "namespace": "steady"}, "data": {"a": "c"}}`
	if err := mgmt.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	app2 := managedClient(t, "app-2")
	testenv.Eventually(t, "changed content deployed", func() error {
		got := &corev1.ConfigMap{}
		if err := app2.Get(ctx, types.NamespacedName{Namespace: "steady", Name: "steady"}, got); err != nil {
			return err
		}
		if got.Data["a"] != "c" {
			return fmt.Errorf("data %v", got.Data)
		}
		return nil
	})
	if conn.Closed() {
		t.Skip("connection rebuilt during the test; counts not comparable")
	}
	// Exactly one write for the one changed object (the server-side apply).
	if w := conn.Writes() - before; w != 1 {
		t.Errorf("%d writes to the managed cluster for one changed object (and one unchanged resync), want 1", w)
	}
}
