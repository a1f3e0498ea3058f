package events_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Reconciling a trigger whose sources, templates and clusters did not change
// writes nothing to the management cluster: no generated object, no report, no
// status (its Ready condition included).
func TestResyncWithoutChangeWritesNothing(t *testing.T) {
	ctx := context.Background()
	const name = "events-resync"
	perClusterTrigger(t, name)
	createSourceConfigMap(t, clusterClient(t, "services"), name, "resync-a", "a")
	setLabels(t, "services", map[string]string{name: "source"})
	defer setLabels(t, "services", map[string]string{name: ""})
	waitOneProfile(t, name)
	waitTriggerReady(t, name, func(_ *libv1beta1.EventTrigger, ready *metav1.Condition) error {
		if ready.Status != metav1.ConditionTrue {
			return fmt.Errorf("ready %s/%s: %s", ready.Status, ready.Reason, ready.Message)
		}
		return nil
	})

	// A second reconciler, outside the manager, counting what it writes.
	var writes atomic.Int64
	count := func() { writes.Add(1) }
	direct, err := client.NewWithWatch(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	counting := interceptor.NewClient(direct, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			count()
			return c.Patch(ctx, obj, patch, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			count()
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			count()
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	r := events.NewUnmanagedTriggerReconciler(counting, registry)
	services := libv1beta1.SveltosClusterID(fleetNamespace, "services")
	testenv.Eventually(t, "the second reconciler's watch synced", func() error {
		synced, err := r.Watcher().Watch(ctx, clusters.WatchKey{Cluster: services, GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap")}, name)
		if err != nil || synced {
			return err
		}
		return fmt.Errorf("not synced yet")
	})

	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: name}}); err != nil {
		t.Fatal(err)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("a reconcile with nothing new made %d writes, want none", n)
	}
	tr := &libv1beta1.EventTrigger{}
	if err := mgmt.Get(ctx, types.NamespacedName{Name: name}, tr); err != nil {
		t.Fatal(err)
	}
	if !conditions.IsTrue(tr, conditions.Ready) {
		t.Errorf("Ready not True after the resync: %+v", tr.Status.Conditions)
	}
}
