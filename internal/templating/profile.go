package templating

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
)

// ProfileContext is the data of a profile-stage template (policyRefs
// annotated projectsveltos.io/template, Helm values, patches, templated
// reference names): .Cluster and .MgmtResources.
type ProfileContext struct {
	// Cluster is the matched SveltosCluster as a map (see ObjectMap).
	Cluster map[string]any
	// MgmtResources maps each templateResourceRef identifier to its object.
	// Optional references whose object does not exist are absent.
	MgmtResources map[string]map[string]any
}

// NewProfileContext builds the data of a profile-stage template. It keeps
// deep copies of its arguments, so that templates (sprig's set, unset, …)
// cannot change the caller's objects.
func NewProfileContext(cluster map[string]any, mgmtResources map[string]map[string]any) ProfileContext {
	res := make(map[string]map[string]any, len(mgmtResources))
	for id, obj := range mgmtResources {
		res[id] = deepCopyMap(obj)
	}
	return ProfileContext{Cluster: deepCopyMap(cluster), MgmtResources: res}
}

// Funcs returns the profile-stage helpers, bound to c.MgmtResources:
//
//	getResource "Id"             the object, without managedFields/resourceVersion/uid
//	copy "Id"                    the same as YAML
//	getField "Id" "a.b"          the value of a field (a missing field is an error)
//	setField "Id" "a.b" v        YAML of the object with the field set
//	removeField "Id" "a.b"       YAML of the object without the field
//	chainSetField obj "a.b" v    a copy of obj (a map) with the field set
//	chainRemoveField obj "a.b"   a copy of obj without the field
//
// Paths are dot separated keys with optional [N] list indexes and ["key"]
// for keys containing dots. The stored objects are never modified.
func (c ProfileContext) Funcs() template.FuncMap {
	lookup := func(fn, id string) (map[string]any, error) {
		obj, ok := c.MgmtResources[id]
		if !ok || obj == nil {
			known := make([]string, 0, len(c.MgmtResources))
			for k := range c.MgmtResources {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, fmt.Errorf("%s: no templateResourceRef with identifier %q (available: %s)",
				fn, id, strings.Join(known, ", "))
		}
		return cleanCopy(obj), nil
	}
	return template.FuncMap{
		"getResource": func(id string) (map[string]any, error) {
			return lookup("getResource", id)
		},
		"copy": func(id string) (string, error) {
			obj, err := lookup("copy", id)
			if err != nil {
				return "", err
			}
			return objectYAML("copy", obj)
		},
		"getField": func(id, path string) (any, error) {
			obj, err := lookup("getField", id)
			if err != nil {
				return nil, err
			}
			return getField("getField", obj, path)
		},
		"setField": func(id, path string, v any) (string, error) {
			obj, err := lookup("setField", id)
			if err != nil {
				return "", err
			}
			out, err := chainSet("setField", obj, path, v)
			if err != nil {
				return "", err
			}
			return objectYAML("setField", out)
		},
		"removeField": func(id, path string) (string, error) {
			obj, err := lookup("removeField", id)
			if err != nil {
				return "", err
			}
			out, err := chainRemove("removeField", obj, path)
			if err != nil {
				return "", err
			}
			return objectYAML("removeField", out)
		},
		"chainSetField":    chainSetFieldFunc,
		"chainRemoveField": chainRemoveFieldFunc,
	}
}

// Render renders a profile-stage template with c and its helpers.
func (c ProfileContext) Render(name, text string) (string, error) {
	return Render(name, text, c, c.Funcs())
}
