package templating

import (
	"fmt"
	"maps"
	"sync"
	"text/template"

	corev1 "k8s.io/api/core/v1"
)

// EventContext is the data of an instantiate-stage template of an
// EventTrigger with oneForEvent: true — one matching resource per render:
// .Cluster, .MatchingResource (.Name, .Namespace, .Kind, .APIVersion) and
// .Resource. The plural fields are render errors.
type EventContext struct {
	// Cluster is the source SveltosCluster as a map.
	Cluster map[string]any
	// MatchingResource references the resource the event is about.
	MatchingResource corev1.ObjectReference

	resource map[string]any
}

// NewEventContext builds the context of one event. resource is the matching
// object as a map, or nil when the EventSource does not collect resources
// (then .Resource is a render error). Maps are deep-copied.
func NewEventContext(cluster map[string]any, ref corev1.ObjectReference, resource map[string]any) EventContext {
	return EventContext{Cluster: deepCopyMap(cluster), MatchingResource: ref, resource: deepCopyMap(resource)}
}

// Resource is the matching object (template: .Resource).
func (c EventContext) Resource() (map[string]any, error) {
	if c.resource == nil {
		return nil, fmt.Errorf(".Resource is not available: the EventSource does not set collectResources: true")
	}
	return c.resource, nil
}

// Resources always fails: templates of a oneForEvent trigger see one resource.
func (c EventContext) Resources() ([]map[string]any, error) {
	return nil, fmt.Errorf(".Resources is only available when oneForEvent is false; with oneForEvent: true use .Resource")
}

// MatchingResources always fails: templates of a oneForEvent trigger see one resource.
func (c EventContext) MatchingResources() ([]corev1.ObjectReference, error) {
	return nil, fmt.Errorf(".MatchingResources is only available when oneForEvent is false; with oneForEvent: true use .MatchingResource")
}

// Render renders an instantiate-stage template with c and InstantiateFuncs.
func (c EventContext) Render(name, text string) (string, error) {
	return Render(name, text, c, InstantiateFuncs())
}

// ClusterEventsContext is the data of an instantiate-stage template of an
// EventTrigger with oneForEvent: false — all matching resources of a source
// cluster at once: .Cluster, .MatchingResources and .Resources. The singular
// fields are render errors.
type ClusterEventsContext struct {
	// Cluster is the source SveltosCluster as a map.
	Cluster map[string]any
	// MatchingResources reference the resources that match.
	MatchingResources []corev1.ObjectReference

	resources []map[string]any
	collected bool
}

// NewClusterEventsContext builds the context of all events of a cluster.
// resources are the matching objects as maps; collected says whether the
// EventSource collects them (when false, .Resources is a render error).
// Maps are deep-copied.
func NewClusterEventsContext(cluster map[string]any, refs []corev1.ObjectReference, resources []map[string]any, collected bool) ClusterEventsContext {
	res := make([]map[string]any, len(resources))
	for i, r := range resources {
		res[i] = deepCopyMap(r)
	}
	return ClusterEventsContext{
		Cluster:           deepCopyMap(cluster),
		MatchingResources: append([]corev1.ObjectReference{}, refs...),
		resources:         res,
		collected:         collected,
	}
}

// Resources are the matching objects (template: .Resources).
func (c ClusterEventsContext) Resources() ([]map[string]any, error) {
	if !c.collected {
		return nil, fmt.Errorf(".Resources is not available: the EventSource does not set collectResources: true")
	}
	return c.resources, nil
}

// Resource always fails: templates of a trigger with oneForEvent: false see all resources.
func (c ClusterEventsContext) Resource() (map[string]any, error) {
	return nil, fmt.Errorf(".Resource is only available when oneForEvent is true; with oneForEvent: false use .Resources")
}

// MatchingResource always fails: templates of a trigger with oneForEvent: false see all resources.
func (c ClusterEventsContext) MatchingResource() (corev1.ObjectReference, error) {
	return corev1.ObjectReference{}, fmt.Errorf(".MatchingResource is only available when oneForEvent is true; with oneForEvent: false use .MatchingResources")
}

// Render renders an instantiate-stage template with c and InstantiateFuncs.
func (c ClusterEventsContext) Render(name, text string) (string, error) {
	return Render(name, text, c, InstantiateFuncs())
}

var instantiateFuncs = sync.OnceValue(func() template.FuncMap {
	return template.FuncMap{
		"getResource": func(obj any) (map[string]any, error) {
			m, err := asObject("getResource", obj)
			if err != nil {
				return nil, err
			}
			return cleanCopy(m), nil
		},
		"copy": func(obj any) (string, error) {
			m, err := asObject("copy", obj)
			if err != nil {
				return "", err
			}
			return objectYAML("copy", cleanCopy(m))
		},
		"getField": func(obj any, path string) (any, error) {
			m, err := asObject("getField", obj)
			if err != nil {
				return nil, err
			}
			return getField("getField", m, path)
		},
		"setField": func(obj any, path string, v any) (string, error) {
			m, err := asObject("setField", obj)
			if err != nil {
				return "", err
			}
			out, err := chainSet("setField", cleanCopy(m), path, v)
			if err != nil {
				return "", err
			}
			return objectYAML("setField", out)
		},
		"removeField": func(obj any, path string) (string, error) {
			m, err := asObject("removeField", obj)
			if err != nil {
				return "", err
			}
			out, err := chainRemove("removeField", cleanCopy(m), path)
			if err != nil {
				return "", err
			}
			return objectYAML("removeField", out)
		},
		"chainSetField":    chainSetFieldFunc,
		"chainRemoveField": chainRemoveFieldFunc,
	}
})

// InstantiateFuncs returns the instantiate-stage helpers, which take the
// object itself (getResource .Resource, copy .Resource,
// getField .Resource "a.b", setField .Resource "a.b" v,
// removeField .Resource "a.b", chainSetField, chainRemoveField). The caller
// may modify the returned map.
func InstantiateFuncs() template.FuncMap {
	return maps.Clone(instantiateFuncs())
}
