package events

import (
	"context"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// EnsureWatch exposes Watcher.Ensure to the tests of package events_test.
func (w *Watcher) EnsureWatch(ctx context.Context, trigger string, cluster types.NamespacedName, gvk schema.GroupVersionKind) (bool, error) {
	return w.Ensure(ctx, trigger, watchKey{cluster: cluster, gvk: gvk})
}

// NewUnmanagedTriggerReconciler returns a TriggerReconciler outside any
// manager, whose Reconcile tests call directly.
func NewUnmanagedTriggerReconciler(c client.Client, registry *clusters.Registry) *TriggerReconciler {
	return &TriggerReconciler{Client: c, Registry: registry, Namespace: libv1beta1.DefaultSystemNamespace, watcher: NewWatcher(registry, logr.Discard())}
}
