package deployer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Selects reports whether sel chooses obj. A nil selector chooses everything.
// Group, version and kind must be equal when set; name and namespace are regular
// expressions matched against the whole value; label and annotation selectors use
// the label-selector syntax.
func Selects(sel *libv1beta1.PatchSelector, obj *unstructured.Unstructured) (bool, error) {
	if sel == nil {
		return true, nil
	}
	gvk := obj.GroupVersionKind()
	if (sel.Group != "" && sel.Group != gvk.Group) ||
		(sel.Version != "" && sel.Version != gvk.Version) ||
		(sel.Kind != "" && sel.Kind != gvk.Kind) {
		return false, nil
	}
	for _, m := range []struct{ field, expr, value string }{
		{"name", sel.Name, obj.GetName()},
		{"namespace", sel.Namespace, obj.GetNamespace()},
	} {
		if m.expr == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + m.expr + ")$")
		if err != nil {
			return false, fmt.Errorf("target %s %q: %w", m.field, m.expr, err)
		}
		if !re.MatchString(m.value) {
			return false, nil
		}
	}
	for _, m := range []struct {
		field, expr string
		set         map[string]string
	}{
		{"labelSelector", sel.LabelSelector, obj.GetLabels()},
		{"annotationSelector", sel.AnnotationSelector, obj.GetAnnotations()},
	} {
		if m.expr == "" {
			continue
		}
		s, err := labels.Parse(m.expr)
		if err != nil {
			return false, fmt.Errorf("target %s %q: %w", m.field, m.expr, err)
		}
		if !s.Matches(labels.Set(m.set)) {
			return false, nil
		}
	}
	return true, nil
}

// ApplyPatches returns a copy of obj with each patch that selects it applied, in
// order. A patch whose document is a list is a JSON 6902 patch and needs a target;
// otherwise it is a strategic-merge patch (a JSON merge patch for kinds client-go
// does not know, such as custom resources), which without a target applies to the
// object of the kind and name it names. Patch documents are YAML or JSON.
func ApplyPatches(obj *unstructured.Unstructured, patches []libv1beta1.Patch) (*unstructured.Unstructured, error) {
	out := obj.DeepCopy()
	for i, p := range patches {
		doc, err := yaml.YAMLToJSON([]byte(p.Patch))
		if err != nil {
			return nil, fmt.Errorf("patch %d: not YAML or JSON: %w", i, err)
		}
		doc = bytes.TrimSpace(doc)
		if bytes.HasPrefix(doc, []byte("[")) {
			out, err = applyJSON6902(out, i, p.Target, doc)
		} else {
			out, err = applyStrategicMerge(out, i, p.Target, doc)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func applyJSON6902(obj *unstructured.Unstructured, i int, target *libv1beta1.PatchSelector, doc []byte) (*unstructured.Unstructured, error) {
	if target == nil {
		return nil, fmt.Errorf("patch %d: a JSON 6902 patch needs a target", i)
	}
	ok, err := Selects(target, obj)
	if err != nil || !ok {
		return obj, wrapPatchErr(i, err)
	}
	ops, err := jsonpatch.DecodePatch(doc)
	if err != nil {
		return nil, fmt.Errorf("patch %d: invalid JSON 6902 patch: %w", i, err)
	}
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, fmt.Errorf("patch %d on %s: %w", i, RefOf(obj), err)
	}
	patched, err := ops.Apply(raw)
	if err != nil {
		return nil, fmt.Errorf("patch %d on %s: %w", i, RefOf(obj), err)
	}
	return decodeObject(patched, i, obj)
}

func applyStrategicMerge(obj *unstructured.Unstructured, i int, target *libv1beta1.PatchSelector, doc []byte) (*unstructured.Unstructured, error) {
	var patch map[string]any
	if err := json.Unmarshal(doc, &patch); err != nil {
		return nil, fmt.Errorf("patch %d: a strategic-merge patch must be an object: %w", i, err)
	}
	named := &unstructured.Unstructured{Object: patch}
	if target == nil {
		if named.GetKind() == "" || named.GetName() == "" {
			return nil, fmt.Errorf("patch %d: a strategic-merge patch without a target must name kind and metadata.name", i)
		}
		target = &libv1beta1.PatchSelector{
			Group:     named.GroupVersionKind().Group,
			Kind:      named.GetKind(),
			Name:      regexp.QuoteMeta(named.GetName()),
			Namespace: regexp.QuoteMeta(named.GetNamespace()),
		}
		if named.GetAPIVersion() == "" {
			target.Group = obj.GroupVersionKind().Group
		}
	}
	ok, err := Selects(target, obj)
	if err != nil || !ok {
		return obj, wrapPatchErr(i, err)
	}
	// The patch must not rename or move the object it is applied to.
	delete(patch, "apiVersion")
	delete(patch, "kind")
	unstructured.RemoveNestedField(patch, "metadata", "name")
	unstructured.RemoveNestedField(patch, "metadata", "namespace")
	doc, err = json.Marshal(patch)
	if err != nil {
		return nil, fmt.Errorf("patch %d: %w", i, err)
	}
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, fmt.Errorf("patch %d on %s: %w", i, RefOf(obj), err)
	}
	var patched []byte
	if typed, err := scheme.Scheme.New(obj.GroupVersionKind()); err == nil {
		patched, err = strategicpatch.StrategicMergePatch(raw, doc, typed)
		if err != nil {
			return nil, fmt.Errorf("patch %d on %s: %w", i, RefOf(obj), err)
		}
	} else if patched, err = jsonpatch.MergePatch(raw, doc); err != nil {
		return nil, fmt.Errorf("patch %d on %s: %w", i, RefOf(obj), err)
	}
	return decodeObject(patched, i, obj)
}

func decodeObject(raw []byte, i int, was *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("patch %d on %s: result is not an object: %w", i, RefOf(was), err)
	}
	return out, nil
}

func wrapPatchErr(i int, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("patch %d: %w", i, err)
}

// ApplyDriftExclusions returns a copy of obj without the JSON-pointer paths of the
// exclusions that select it, so that applying it leaves those fields to others.
// Paths that do not exist are ignored.
func ApplyDriftExclusions(obj *unstructured.Unstructured, exclusions []libv1beta1.DriftExclusion) (*unstructured.Unstructured, error) {
	out := obj.DeepCopy()
	for i, ex := range exclusions {
		ok, err := Selects(ex.Target, out)
		if err != nil {
			return nil, fmt.Errorf("drift exclusion %d: %w", i, err)
		}
		if !ok {
			continue
		}
		for _, p := range ex.Paths {
			if err := RemovePointer(out.Object, p); err != nil {
				return nil, fmt.Errorf("drift exclusion %d: %w", i, err)
			}
		}
	}
	return out, nil
}

// RemovePointer removes the value at the RFC 6901 JSON pointer path from doc (maps
// and slices as decoded by encoding/json). A path that does not exist is not an error.
func RemovePointer(doc map[string]any, path string) error {
	if path == "" || path == "/" {
		return fmt.Errorf("path %q: refusing to remove the whole object", path)
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("path %q: a JSON pointer starts with /", path)
	}
	tokens := strings.Split(path[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	removeAt(doc, tokens)
	return nil
}

// removeAt removes tokens from node, returning the node to store in place of node
// (slices shrink, so the parent must store the new slice).
func removeAt(node any, tokens []string) any {
	last := len(tokens) == 1
	switch n := node.(type) {
	case map[string]any:
		child, ok := n[tokens[0]]
		if !ok {
			return n
		}
		if last {
			delete(n, tokens[0])
		} else {
			n[tokens[0]] = removeAt(child, tokens[1:])
		}
		return n
	case []any:
		idx, err := strconv.Atoi(tokens[0])
		if err != nil || idx < 0 || idx >= len(n) {
			return n
		}
		if last {
			return append(n[:idx:idx], n[idx+1:]...)
		}
		n[idx] = removeAt(n[idx], tokens[1:])
		return n
	default:
		return node
	}
}
