package classifier

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/events"
)

// compileSelectors compiles resource selectors (label filters, selector, CEL
// rules, Lua evaluate); field names the spec field they come from.
func compileSelectors(field string, selectors []libv1beta1.ResourceSelector) ([]*events.Matcher, error) {
	out := make([]*events.Matcher, 0, len(selectors))
	for i, rs := range selectors {
		m, err := events.CompileSelector(rs)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// selected is what a set of selectors selects in one cluster.
type selected struct {
	// resources are the selected objects, without duplicates, sorted, as Lua
	// scripts receive them (managedFields dropped).
	resources []any
	// perSelector counts what each selector selected.
	perSelector []int
}

// watchAndSelect makes holder hold, through watcher, the kinds the matchers
// select in cluster (recording the keys in keep) and, once every informer has
// synced, returns what the matchers select from them. synced is false while an
// informer is still listing: the holder is told when it has.
func watchAndSelect(ctx context.Context, watcher *clusters.Watcher, holder string, cluster libv1beta1.ClusterID,
	field string, matchers []*events.Matcher, keep map[clusters.WatchKey]bool) (_ selected, synced bool, _ error) {
	synced = true
	for _, m := range matchers {
		key := clusters.WatchKey{Cluster: cluster, GVK: m.GVK()}
		keep[key] = true
		ok, err := watcher.Watch(ctx, key, holder)
		if err != nil {
			return selected{}, false, err
		}
		synced = synced && ok
	}
	if !synced {
		return selected{}, false, nil
	}
	out := selected{perSelector: make([]int, len(matchers))}
	seen := map[string]bool{}
	type entry struct {
		id  string
		obj map[string]any
	}
	var entries []entry
	for i, m := range matchers {
		items, err := watcher.List(clusters.WatchKey{Cluster: cluster, GVK: m.GVK()}, m.Namespace())
		if err != nil {
			return selected{}, false, err
		}
		for j := range items {
			obj := &items[j]
			obj.SetGroupVersionKind(m.GVK()) // objects from the cache may lack apiVersion/kind
			ok, err := m.Matches(obj)
			if err != nil {
				return selected{}, false, fmt.Errorf("%s[%d]: %w", field, i, err)
			}
			if !ok {
				continue
			}
			out.perSelector[i]++
			id := m.GVK().String() + "/" + obj.GetNamespace() + "/" + obj.GetName()
			if !seen[id] {
				seen[id] = true
				entries = append(entries, entry{id: id, obj: scriptView(obj)})
			}
		}
	}
	sort.Slice(entries, func(a, b int) bool { return strings.Compare(entries[a].id, entries[b].id) < 0 })
	out.resources = make([]any, 0, len(entries))
	for _, e := range entries {
		out.resources = append(out.resources, e.obj)
	}
	return out, true, nil
}

// scriptView is an object as Lua scripts see it: without managedFields.
func scriptView(obj *unstructured.Unstructured) map[string]any {
	m := obj.DeepCopy().Object
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return m
}
