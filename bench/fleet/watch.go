package main

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

var (
	gvrConfigMap      = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrSecret         = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	gvrServiceAccount = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	gvrService        = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrDeployment     = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrSummary        = schema.GroupVersionResource{Group: "config.projectsveltos.io", Version: "v1beta1", Resource: "clustersummaries"}

	// deployedKinds are the kinds the benchmark profiles deploy.
	deployedKinds = []schema.GroupVersionResource{gvrConfigMap, gvrSecret, gvrServiceAccount, gvrService, gvrDeployment}
)

// watchLoop lists (for a resource version) then watches, rewatching from the
// last version seen when the server closes the watch, and calls fn for every
// event until ctx ends. It keeps no cache: the harness must not weigh on the
// manager's memory figures.
func watchLoop(ctx context.Context, ri dynamic.ResourceInterface, opts metav1.ListOptions, fn func(watch.EventType, *unstructured.Unstructured, time.Time)) error {
	list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: opts.LabelSelector, FieldSelector: opts.FieldSelector})
	if err != nil {
		return err
	}
	rv := list.GetResourceVersion()
	ready := make(chan error, 1)
	go func() {
		first := true
		for ctx.Err() == nil {
			o := opts
			o.ResourceVersion, o.AllowWatchBookmarks = rv, true
			w, err := ri.Watch(ctx, o)
			if first {
				ready <- err
				first = false
				if err != nil {
					return
				}
			}
			if err != nil {
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					if l, lerr := ri.List(ctx, metav1.ListOptions{LabelSelector: opts.LabelSelector, FieldSelector: opts.FieldSelector}); lerr == nil {
						rv = l.GetResourceVersion()
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			for ev := range w.ResultChan() {
				at := time.Now()
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					continue // an error status: rewatch
				}
				rv = u.GetResourceVersion()
				if ev.Type == watch.Bookmark {
					continue
				}
				fn(ev.Type, u, at)
			}
			w.Stop()
		}
	}()
	return <-ready
}

// tracker follows one profile's rollout: when each cluster's summary became
// Provisioned and when each of its objects first appeared.
type tracker struct {
	mu sync.Mutex
	k  int // objects per cluster
	// objectsOnly: a cluster is done when its objects are, whatever its summary
	// says (a content change may leave the summary Provisioned throughout).
	objectsOnly bool
	want        map[string]bool                 // cluster names (= target namespaces)
	objs        map[string]map[string]time.Time // namespace -> kind/name -> first seen
	prov        map[string]time.Time            // cluster -> summary Provisioned
	// finished are the clusters counted in doneN.
	finished map[string]bool
	doneN    int
	done     chan struct{}
}

func newTracker(clusterNames []string, k int) *tracker {
	t := &tracker{k: k, want: map[string]bool{}, objs: map[string]map[string]time.Time{}, prov: map[string]time.Time{}, finished: map[string]bool{}, done: make(chan struct{})}
	for _, c := range clusterNames {
		t.want[c] = true
	}
	return t
}

func (t *tracker) object(ns, key string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.want[ns] {
		return
	}
	m := t.objs[ns]
	if m == nil {
		m = map[string]time.Time{}
		t.objs[ns] = m
	}
	if _, seen := m[key]; seen {
		return
	}
	m[key] = at
	t.check(ns)
}

func (t *tracker) provisioned(cluster string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.want[cluster] {
		return
	}
	if _, seen := t.prov[cluster]; seen {
		return
	}
	t.prov[cluster] = at
	t.check(cluster)
}

func (t *tracker) check(cluster string) {
	if _, ok := t.prov[cluster]; (!ok && !t.objectsOnly) || len(t.objs[cluster]) < t.k || t.finished[cluster] {
		return
	}
	t.finished[cluster] = true
	t.doneN++
	if t.doneN == len(t.want) {
		close(t.done)
	}
}

// perCluster is, for every finished cluster, the time from start until its summary
// was Provisioned and all its objects existed; plus how many clusters finished.
func (t *tracker) perCluster(start time.Time) (d dist, last time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.want {
		p, ok := t.prov[c]
		if (!ok && !t.objectsOnly) || len(t.objs[c]) < t.k {
			d.failures++
			continue
		}
		end := p
		if t.objectsOnly {
			end = start
		}
		for _, at := range t.objs[c] {
			if at.After(end) {
				end = at
			}
		}
		if end.After(last) {
			last = end
		}
		d.add(end.Sub(start))
	}
	return d, last
}

// trackProfile starts the watches feeding a tracker: the profile's summaries in
// the management cluster and its labelled objects in every managed API server
// (those accepted by match, when given).
func (h *harness) trackProfile(ctx context.Context, profile string, clusterNames []string, k int, match func(*unstructured.Unstructured) bool, objectsOnly bool) (*tracker, error) {
	t := newTracker(clusterNames, k)
	t.objectsOnly = objectsOnly
	sel := configv1beta1.ClusterProfileNameLabel + "=" + profile
	err := watchLoop(ctx, h.mgmtDyn.Resource(gvrSummary), metav1.ListOptions{LabelSelector: sel},
		func(_ watch.EventType, u *unstructured.Unstructured, at time.Time) {
			s := &configv1beta1.ClusterSummary{}
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s) != nil {
				return
			}
			if fs := s.FeatureSummary(libv1beta1.FeatureResources); fs != nil && fs.Status == libv1beta1.FeatureStatusProvisioned {
				t.provisioned(s.Spec.ClusterName, at)
			}
		})
	if err != nil {
		return nil, err
	}
	objSel := profileLabel + "=" + profile
	for _, s := range h.servers {
		for _, gvr := range deployedKinds {
			err := watchLoop(ctx, s.dyn.Resource(gvr), metav1.ListOptions{LabelSelector: objSel},
				func(typ watch.EventType, u *unstructured.Unstructured, at time.Time) {
					if (typ == watch.Added || typ == watch.Modified) && (match == nil || match(u)) {
						t.object(u.GetNamespace(), gvr.Resource+"/"+u.GetName(), at)
					}
				})
			if err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}
