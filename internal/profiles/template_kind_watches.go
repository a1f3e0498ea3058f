package profiles

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// templateKindWatches adds, while the summary controller runs, a watch of the
// management cluster for each kind of object templateResourceRefs name
// (ConfigMaps and Secrets are watched from the start), so that a change of
// such an object brings back the summaries that read it at once, not at the
// next resync. Whether the change deploys again is the feature hash's
// decision (watchedContent). The watches hold the objects' metadata only
// (a metadata informer): the objects are read when the summary renders.
type templateKindWatches struct {
	controller controller.Controller
	cache      cache.Cache
	// enqueue maps an object of a kind to the summaries that reference it.
	enqueue func(kind string) handler.MapFunc

	mu      sync.Mutex
	watched map[schema.GroupVersionKind]bool
}

// ensure watches gvk unless it already is (a no-op before the controller is built).
func (w *templateKindWatches) ensure(ctx context.Context, gvk schema.GroupVersionKind) error {
	if w == nil || w.controller == nil {
		return nil
	}
	if gvk.Group == "" && gvk.Version == "v1" && (gvk.Kind == "ConfigMap" || gvk.Kind == "Secret") {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched[gvk] {
		return nil
	}
	// Metadata only: the event says which object changed; the summary reads
	// the object itself when it renders, and its feature hash decides.
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(gvk)
	if err := w.controller.Watch(source.Kind[client.Object](w.cache, obj, handler.EnqueueRequestsFromMapFunc(w.enqueue(gvk.Kind)))); err != nil {
		return fmt.Errorf("watching %s for templateResourceRefs: %w", gvk, err)
	}
	if w.watched == nil {
		w.watched = map[schema.GroupVersionKind]bool{}
	}
	w.watched[gvk] = true
	log.FromContext(ctx).V(1).Info("watching a kind templateResourceRefs name", "gvk", gvk.String())
	return nil
}
