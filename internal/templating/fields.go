package templating

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// asObject accepts the forms an object takes in templates and Go callers and
// returns its map, without copying.
func asObject(fn string, v any) (map[string]any, error) {
	switch o := v.(type) {
	case map[string]any:
		if o == nil {
			return nil, fmt.Errorf("%s: object is nil", fn)
		}
		return o, nil
	case *unstructured.Unstructured:
		if o == nil || o.Object == nil {
			return nil, fmt.Errorf("%s: object is nil", fn)
		}
		return o.Object, nil
	case unstructured.Unstructured:
		if o.Object == nil {
			return nil, fmt.Errorf("%s: object is nil", fn)
		}
		return o.Object, nil
	case nil:
		return nil, fmt.Errorf("%s: object is nil", fn)
	default:
		return nil, fmt.Errorf("%s: expected an object (map), got %T", fn, v)
	}
}

// deepCopy copies the containers of a JSON-like value; scalars are shared.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	case []map[string]any:
		if t == nil {
			return t
		}
		out := make([]map[string]any, len(t))
		for i, e := range t {
			out[i] = deepCopyMap(e)
		}
		return out
	case map[string]string:
		if t == nil {
			return t
		}
		out := make(map[string]string, len(t))
		for k, e := range t {
			out[k] = e
		}
		return out
	case []string:
		if t == nil {
			return t
		}
		return append([]string(nil), t...)
	default:
		return v
	}
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = deepCopy(e)
	}
	return out
}

// cleanCopy returns a deep copy of obj without the server-managed metadata
// that templates should never copy into another object: managedFields,
// resourceVersion and uid.
func cleanCopy(obj map[string]any) map[string]any {
	out := deepCopyMap(obj)
	if md, ok := out["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
		delete(md, "resourceVersion")
		delete(md, "uid")
	}
	return out
}

// step is one element of a field path: a map key or a list index.
type step struct {
	key     string
	index   int
	isIndex bool
}

// parsePath parses a field path: keys separated by dots, each optionally
// followed by list indexes or quoted keys in brackets, e.g.
// "spec.ports[0].port" or `metadata.annotations["projectsveltos.io/template"]`.
func parsePath(p string) ([]step, error) {
	if p == "" {
		return nil, fmt.Errorf("empty field path")
	}
	var steps []step
	i := 0
	expectKey := true // a plain key may start here
	for i < len(p) {
		switch c := p[i]; {
		case c == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("field path %q: unclosed '[' at offset %d", p, i)
			}
			inner := p[i+1 : i+end]
			if len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\'') && inner[len(inner)-1] == inner[0] {
				steps = append(steps, step{key: inner[1 : len(inner)-1]})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("field path %q: %q at offset %d is neither a list index nor a quoted key", p, inner, i)
				}
				steps = append(steps, step{index: n, isIndex: true})
			}
			i += end + 1
			expectKey = false
		case c == '.':
			if i == 0 || i == len(p)-1 || p[i+1] == '.' || p[i+1] == '[' {
				return nil, fmt.Errorf("field path %q: empty key at offset %d", p, i)
			}
			i++
			expectKey = true
		default:
			if !expectKey {
				return nil, fmt.Errorf("field path %q: expected '.' or '[' at offset %d", p, i)
			}
			end := strings.IndexAny(p[i:], ".[")
			if end < 0 {
				end = len(p) - i
			}
			steps = append(steps, step{key: p[i : i+end]})
			i += end
			expectKey = false
		}
	}
	return steps, nil
}

// formatPath prints steps back as a path, for messages.
func formatPath(steps []step) string {
	var b strings.Builder
	for i, s := range steps {
		switch {
		case s.isIndex:
			fmt.Fprintf(&b, "[%d]", s.index)
		case strings.ContainsAny(s.key, ".[]"):
			fmt.Fprintf(&b, "[%q]", s.key)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// getPath returns the value at steps and whether it exists.
func getPath(obj map[string]any, steps []step) (any, bool, error) {
	var cur any = obj
	for i, s := range steps {
		if s.isIndex {
			arr, ok := cur.([]any)
			if !ok {
				return nil, false, fmt.Errorf("%s is a %T, not a list", formatPath(steps[:i]), cur)
			}
			if s.index >= len(arr) {
				return nil, false, nil
			}
			cur = arr[s.index]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			if cur == nil {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("%s is a %T, not a map", formatPath(steps[:i]), cur)
		}
		v, found := m[s.key]
		if !found {
			return nil, false, nil
		}
		cur = v
	}
	return cur, true, nil
}

// setIn sets the value at steps below cur, creating missing maps and lists
// (a list index may be at most the list's length, which appends), and returns
// the possibly new container. It modifies cur: callers pass a copy.
func setIn(cur any, all []step, at int, v any) (any, error) {
	if at == len(all) {
		return v, nil
	}
	s := all[at]
	if s.isIndex {
		var arr []any
		switch t := cur.(type) {
		case nil:
		case []any:
			arr = t
		default:
			return nil, fmt.Errorf("%s is a %T, not a list", formatPath(all[:at]), cur)
		}
		if s.index > len(arr) {
			return nil, fmt.Errorf("%s: index %d out of range (length %d)", formatPath(all[:at+1]), s.index, len(arr))
		}
		var child any
		if s.index < len(arr) {
			child = arr[s.index]
		}
		nv, err := setIn(child, all, at+1, v)
		if err != nil {
			return nil, err
		}
		if s.index == len(arr) {
			return append(arr, nv), nil
		}
		arr[s.index] = nv
		return arr, nil
	}
	var m map[string]any
	switch t := cur.(type) {
	case nil:
		m = map[string]any{}
	case map[string]any:
		m = t
		if m == nil {
			m = map[string]any{}
		}
	default:
		return nil, fmt.Errorf("%s is a %T, not a map", formatPath(all[:at]), cur)
	}
	nv, err := setIn(m[s.key], all, at+1, v)
	if err != nil {
		return nil, err
	}
	m[s.key] = nv
	return m, nil
}

// removeIn deletes the value at steps below cur (a missing one is not an
// error) and returns the possibly new container. It modifies cur.
func removeIn(cur any, all []step, at int) (any, error) {
	s := all[at]
	last := at == len(all)-1
	if s.isIndex {
		switch t := cur.(type) {
		case nil:
			return cur, nil
		case []any:
			if s.index >= len(t) {
				return t, nil
			}
			if last {
				return append(t[:s.index:s.index], t[s.index+1:]...), nil
			}
			nv, err := removeIn(t[s.index], all, at+1)
			if err != nil {
				return nil, err
			}
			t[s.index] = nv
			return t, nil
		default:
			return nil, fmt.Errorf("%s is a %T, not a list", formatPath(all[:at]), cur)
		}
	}
	switch t := cur.(type) {
	case nil:
		return cur, nil
	case map[string]any:
		child, ok := t[s.key]
		if !ok {
			return t, nil
		}
		if last {
			delete(t, s.key)
			return t, nil
		}
		nv, err := removeIn(child, all, at+1)
		if err != nil {
			return nil, err
		}
		t[s.key] = nv
		return t, nil
	default:
		return nil, fmt.Errorf("%s is a %T, not a map", formatPath(all[:at]), cur)
	}
}

// getField returns (a deep copy of) the value at path; a missing field is an error.
func getField(fn string, obj map[string]any, path string) (any, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	v, found, err := getPath(obj, steps)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", fn, path, err)
	}
	if !found {
		return nil, fmt.Errorf("%s: field %q not found", fn, path)
	}
	return deepCopy(v), nil
}

// chainSet returns a copy of obj with path set to v.
func chainSet(fn string, obj map[string]any, path string, v any) (map[string]any, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	out, err := setIn(deepCopyMap(obj), steps, 0, deepCopy(v))
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", fn, path, err)
	}
	return out.(map[string]any), nil
}

// chainRemove returns a copy of obj without path.
func chainRemove(fn string, obj map[string]any, path string) (map[string]any, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	out, err := removeIn(deepCopyMap(obj), steps, 0)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", fn, path, err)
	}
	return out.(map[string]any), nil
}

func chainSetFieldFunc(obj any, path string, v any) (map[string]any, error) {
	m, err := asObject("chainSetField", obj)
	if err != nil {
		return nil, err
	}
	return chainSet("chainSetField", m, path, v)
}

func chainRemoveFieldFunc(obj any, path string) (map[string]any, error) {
	m, err := asObject("chainRemoveField", obj)
	if err != nil {
		return nil, err
	}
	return chainRemove("chainRemoveField", m, path)
}

// objectYAML renders an object the way copy/setField/removeField return it.
func objectYAML(fn string, obj map[string]any) (string, error) {
	s, err := toYAML(obj)
	if err != nil {
		return "", fmt.Errorf("%s: %w", fn, err)
	}
	return s, nil
}
