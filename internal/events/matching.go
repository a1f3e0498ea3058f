package events

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/scripting"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// Matcher is a compiled ResourceSelector of an EventSource. It is safe for
// concurrent use.
type Matcher struct {
	gvk       schema.GroupVersionKind
	namespace string
	name      string
	// labels combines labelFilters and selector (ANDed); nil matches everything.
	labels labels.Selector
	cel    []celRule
	lua    *scripting.Lua
}

type celRule struct {
	name string
	rule *scripting.CEL
}

// CompileSelector validates a ResourceSelector and compiles its label filters,
// selector, CEL rules and Lua script. Errors name the offending part.
func CompileSelector(rs libv1beta1.ResourceSelector) (*Matcher, error) {
	if rs.Kind == "" {
		return nil, fmt.Errorf("resourceSelector: kind is required")
	}
	m := &Matcher{
		gvk:       schema.GroupVersionKind{Group: rs.Group, Version: rs.Version, Kind: rs.Kind},
		namespace: rs.Namespace,
		name:      rs.Name,
	}
	sel, err := compileLabels(rs.LabelFilters, rs.Selector)
	if err != nil {
		return nil, fmt.Errorf("resourceSelector %s: %w", m.describe(), err)
	}
	m.labels = sel
	for i, r := range rs.EvaluateCEL {
		prg, err := scripting.CompileCEL(r.Rule, "resource")
		if err != nil {
			return nil, fmt.Errorf("resourceSelector %s: evaluateCEL[%d] (%s): %w", m.describe(), i, r.Name, err)
		}
		m.cel = append(m.cel, celRule{name: r.Name, rule: prg})
	}
	if strings.TrimSpace(rs.Evaluate) != "" {
		p, err := scripting.CompileLua(rs.Evaluate)
		if err != nil {
			return nil, fmt.Errorf("resourceSelector %s: evaluate: %w", m.describe(), err)
		}
		m.lua = p
	}
	return m, nil
}

// CompileSelectors compiles every resourceSelector of an EventSource.
func CompileSelectors(source *libv1beta1.EventSource) ([]*Matcher, error) {
	out := make([]*Matcher, 0, len(source.Spec.ResourceSelectors))
	for i, rs := range source.Spec.ResourceSelectors {
		m, err := CompileSelector(rs)
		if err != nil {
			return nil, fmt.Errorf("EventSource %s: resourceSelectors[%d]: %w", source.Name, i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// GVK is the group/version/kind the selector watches.
func (m *Matcher) GVK() schema.GroupVersionKind { return m.gvk }

// Namespace is the namespace the selector is restricted to ("" for all).
func (m *Matcher) Namespace() string { return m.namespace }

func (m *Matcher) describe() string {
	gv := m.gvk.GroupVersion().String()
	return gv + "/" + m.gvk.Kind
}

// Matches reports whether obj is selected: same kind, namespace and name (when
// set), labels accepted by labelFilters and selector, any CEL rule true (when
// there are rules) and the Lua script returning matching=true (when there is
// one). An error is a CEL or Lua runtime failure.
func (m *Matcher) Matches(obj *unstructured.Unstructured) (bool, error) {
	if obj.GroupVersionKind() != m.gvk {
		return false, nil
	}
	if m.namespace != "" && obj.GetNamespace() != m.namespace {
		return false, nil
	}
	if m.name != "" && obj.GetName() != m.name {
		return false, nil
	}
	if m.labels != nil && !m.labels.Matches(labels.Set(obj.GetLabels())) {
		return false, nil
	}
	if len(m.cel) > 0 {
		ok, err := m.matchCEL(obj.Object)
		if err != nil || !ok {
			return false, err
		}
	}
	if m.lua != nil {
		ok, err := m.evaluateLua(obj.Object)
		if err != nil {
			return false, fmt.Errorf("%s %s: evaluate: %w", obj.GetKind(), objectKey(obj), err)
		}
		return ok, nil
	}
	return true, nil
}

func objectKey(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

func compileLabels(filters []libv1beta1.LabelFilter, selector *metav1.LabelSelector) (labels.Selector, error) {
	if len(filters) == 0 && selector == nil {
		return nil, nil
	}
	sel, err := selection.LabelFilters(filters)
	if err != nil {
		return nil, err
	}
	if selector != nil {
		s, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return nil, fmt.Errorf("selector: %w", err)
		}
		reqs, _ := sel.Requirements()
		sel = s.Add(reqs...)
	}
	return sel, nil
}

// matchCEL is true when any rule evaluates to true. A rule that fails at
// runtime (e.g. a missing field) counts as false unless every rule fails, in
// which case the first error is returned.
func (m *Matcher) matchCEL(obj map[string]any) (bool, error) {
	var firstErr error
	failed := 0
	for _, r := range m.cel {
		ok, err := r.rule.Eval(obj)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("evaluateCEL %s: %w", r.name, err)
			}
			continue
		}
		if ok {
			return true, nil
		}
	}
	if failed == len(m.cel) {
		return false, firstErr
	}
	return false, nil
}

// evaluateLua runs the selector's script: matching=true in the table it returns.
func (m *Matcher) evaluateLua(obj map[string]any) (bool, error) {
	out, err := m.lua.Evaluate(map[string]any{"obj": obj})
	if err != nil {
		return false, err
	}
	matching, _ := out["matching"].(bool)
	return matching, nil
}
