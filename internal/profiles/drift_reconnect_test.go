package profiles_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// When the connection to a cluster is dropped (as after a manager restart or a
// rebuilt kubeconfig), the drift watch of an unchanged summary comes back on its
// next reconcile, although nothing is redeployed, and drift is repaired again.
func TestDriftWatchComesBackAfterTheConnectionIsLost(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "drift-reconnect", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched", "namespace": "default"}, "data": {"k": "v"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "drift-reconnect"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"drift-reconnect": "yes"}
	p.Spec.SyncMode = libv1beta1.SyncModeContinuousWithDriftDetection
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "drift-reconnect"}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"drift-reconnect": "yes"})
	waitSummary(t, "drift-reconnect", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	app2 := managedClient(t, "app-2")
	cluster := libv1beta1.SveltosClusterID("fleet", "app-2")
	watched := clusters.WatchKey{Cluster: cluster, GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap"), LabelSelector: libv1beta1.ReasonLabel}
	testenv.Eventually(t, "the drift watch", func() error {
		if !slices.Contains(mgr.Registry.Watches().Keys(), watched) {
			return fmt.Errorf("no watch %s", watched)
		}
		return nil
	})

	mgr.Registry.Forget(cluster)
	testenv.Eventually(t, "the watch gone with the connection", func() error {
		if slices.Contains(mgr.Registry.Watches().Keys(), watched) {
			return fmt.Errorf("watch %s still there", watched)
		}
		return nil
	})
	// A reconcile with nothing to redeploy (an annotation on the profile brings
	// its summaries back).
	updateClusterProfile(t, "drift-reconnect", func(cp *configv1beta1.ClusterProfile) {
		if cp.Annotations == nil {
			cp.Annotations = map[string]string{}
		}
		cp.Annotations["test/poke"] = time.Now().Format(time.RFC3339Nano)
	})
	testenv.Eventually(t, "the drift watch back", func() error {
		if !slices.Contains(mgr.Registry.Watches().Keys(), watched) {
			return fmt.Errorf("no watch %s", watched)
		}
		return nil
	})

	if err := app2.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "watched"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "restored after deletion", func() error {
		cm := &corev1.ConfigMap{}
		if err := app2.Get(ctx, types.NamespacedName{Namespace: "default", Name: "watched"}, cm); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("not restored yet")
			}
			return err
		}
		return nil
	})
}
