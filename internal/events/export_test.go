package events

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// EnsureWatch exposes Watcher.Ensure to the tests of package events_test.
func (w *Watcher) EnsureWatch(ctx context.Context, trigger string, cluster types.NamespacedName, gvk schema.GroupVersionKind) (bool, error) {
	return w.Ensure(ctx, trigger, watchKey{cluster: cluster, gvk: gvk})
}
