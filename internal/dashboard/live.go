package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	capiv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	schedulerv1alpha1 "github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// Informers gives the informers of the cache the pages read (the manager's
// cache.Cache is one).
type Informers interface {
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

// minPush is the least time between two change notices to one page: a burst
// of changes costs a page one reload.
const minPush = 250 * time.Millisecond

// heartbeat keeps an idle stream open through proxies.
const heartbeat = 25 * time.Second

// changes tells the open pages that something they show changed.
type changes struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// subscribe returns a channel receiving a value after changes (several
// changes in a row may make one value) and the function that ends it.
func (c *changes) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	if c.subs == nil {
		c.subs = map[chan struct{}]struct{}{}
	}
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

// notify tells every subscriber, without waiting for any.
func (c *changes) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default: // a notice is pending already
		}
	}
}

// watched are the kinds whose changes the pages show.
func (s *Server) watched() []client.Object {
	objs := []client.Object{
		&libv1beta1.SveltosCluster{}, &configv1beta1.ClusterSummary{}, &configv1beta1.ClusterProfile{},
		&configv1beta1.Profile{}, &libv1beta1.EventTrigger{}, &libv1beta1.EventSource{}, &libv1beta1.EventReport{}, &schedulerv1alpha1.Environment{},
	}
	switch s.Fleet.CAPI {
	case clusters.CAPIv1beta1:
		objs = append(objs, &capiv1beta1.Cluster{})
	case clusters.CAPIv1beta2:
		objs = append(objs, &capiv1beta2.Cluster{})
	}
	return objs
}

// watch notifies the open pages of every change the cache sees to a kind
// the pages show. A kind the cache cannot watch (its CRD is not installed)
// is logged and left out.
func (s *Server) watch(ctx context.Context) {
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { s.changes.notify() },
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(client.Object)
			n, ok2 := newObj.(client.Object)
			if ok1 && ok2 && o.GetResourceVersion() == n.GetResourceVersion() {
				return // a resync: nothing changed
			}
			s.changes.notify()
		},
		DeleteFunc: func(any) { s.changes.notify() },
	}
	for _, obj := range s.watched() {
		informer, err := s.Informers.GetInformer(ctx, obj)
		if err == nil {
			_, err = informer.AddEventHandler(handler)
		}
		var notFollowed errNotFollowed
		switch {
		case errors.As(err, &notFollowed):
			// The local dashboard's user may not watch it: as expected.
			log.FromContext(ctx).Info("the dashboard does not follow this kind live", "kind", fmt.Sprintf("%T", obj), "reason", err.Error())
		case err != nil:
			log.FromContext(ctx).Error(err, "the dashboard does not follow this kind live", "kind", fmt.Sprintf("%T", obj))
		}
	}
}

// updates streams server-sent events: "change" whenever something the pages
// show changed (at most one per minPush), which makes the page fetch its
// content again.
func (s *Server) updates(w http.ResponseWriter, req *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// In the kubernetes mode only users who may list something the pages
	// show hear of changes.
	if err := s.mayWatch(req); err != nil {
		var forbidden errForbidden
		status := http.StatusForbidden
		if !errors.As(err, &forbidden) {
			status = http.StatusInternalServerError
		}
		http.Error(w, err.Error(), status)
		return
	}
	ch, cancel := s.changes.subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-req.Context().Done():
			return
		case <-beat.C:
			fmt.Fprint(w, ": still here\n\n")
		case <-ch:
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", strconv.FormatInt(time.Now().UnixMilli(), 10))
			flusher.Flush()
			select {
			case <-req.Context().Done():
				return
			case <-time.After(minPush):
			}
			continue
		}
		flusher.Flush()
	}
}
