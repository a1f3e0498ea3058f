package events

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sselection "k8s.io/apimachinery/pkg/selection"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
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
	lua    *luaProgram
}

type celRule struct {
	name    string
	program cel.Program
}

// luaProgram is a compiled `evaluate` script. LStates are not safe for
// concurrent use, so each evaluation borrows one from the pool.
type luaProgram struct {
	proto *lua.FunctionProto
	pool  sync.Pool
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
		prg, err := compileCEL(r.Rule)
		if err != nil {
			return nil, fmt.Errorf("resourceSelector %s: evaluateCEL[%d] (%s): %w", m.describe(), i, r.Name, err)
		}
		m.cel = append(m.cel, celRule{name: r.Name, program: prg})
	}
	if strings.TrimSpace(rs.Evaluate) != "" {
		p, err := compileLua(rs.Evaluate)
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
		ok, err := m.lua.evaluate(obj.Object)
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
	sel := labels.Everything()
	if selector != nil {
		s, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return nil, fmt.Errorf("selector: %w", err)
		}
		sel = s
	}
	reqs := make([]labels.Requirement, 0, len(filters))
	for i, f := range filters {
		var (
			op     k8sselection.Operator
			values []string
		)
		switch f.Operation {
		case libv1beta1.OperationEqual:
			op, values = k8sselection.Equals, []string{f.Value}
		case libv1beta1.OperationDifferent:
			op, values = k8sselection.NotEquals, []string{f.Value}
		case libv1beta1.OperationHas:
			op = k8sselection.Exists
		case libv1beta1.OperationDoesNotHave:
			op = k8sselection.DoesNotExist
		default:
			return nil, fmt.Errorf("labelFilters[%d] (key %q): unknown operation %q (want Equal, Different, Has or DoesNotHave)", i, f.Key, f.Operation)
		}
		r, err := labels.NewRequirement(f.Key, op, values)
		if err != nil {
			return nil, fmt.Errorf("labelFilters[%d] (key %q): %w", i, f.Key, err)
		}
		reqs = append(reqs, *r)
	}
	return sel.Add(reqs...), nil
}

func compileCEL(rule string) (cel.Program, error) {
	env, err := cel.NewEnv(cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		return nil, fmt.Errorf("creating CEL environment: %w", err)
	}
	ast, iss := env.Compile(rule)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("rule must evaluate to a bool, not %s", t)
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("building CEL program: %w", err)
	}
	return prg, nil
}

// matchCEL is true when any rule evaluates to true. A rule that fails at
// runtime (e.g. a missing field) counts as false unless every rule fails, in
// which case the first error is returned.
func (m *Matcher) matchCEL(obj map[string]any) (bool, error) {
	var firstErr error
	failed := 0
	for _, r := range m.cel {
		out, _, err := r.program.Eval(map[string]any{"resource": obj})
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("evaluateCEL %s: %w", r.name, err)
			}
			continue
		}
		if b, ok := out.Value().(bool); ok && b {
			return true, nil
		}
	}
	if failed == len(m.cel) {
		return false, firstErr
	}
	return false, nil
}

func compileLua(script string) (*luaProgram, error) {
	chunk, err := parse.Parse(strings.NewReader(script), "evaluate")
	if err != nil {
		return nil, fmt.Errorf("parsing Lua: %w", err)
	}
	proto, err := lua.Compile(chunk, "evaluate")
	if err != nil {
		return nil, fmt.Errorf("compiling Lua: %w", err)
	}
	p := &luaProgram{proto: proto}
	p.pool.New = func() any { return lua.NewState() }
	// Define the function once to check that the script defines evaluate().
	ls := p.pool.Get().(*lua.LState)
	defer ls.Close()
	if err := p.load(ls); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *luaProgram) load(ls *lua.LState) error {
	ls.Push(ls.NewFunctionFromProto(p.proto))
	if err := ls.PCall(0, lua.MultRet, nil); err != nil {
		return fmt.Errorf("running Lua script: %w", err)
	}
	if fn, ok := ls.GetGlobal("evaluate").(*lua.LFunction); !ok || fn == nil {
		return fmt.Errorf("the Lua script does not define function evaluate()")
	}
	return nil
}

func (p *luaProgram) evaluate(obj map[string]any) (bool, error) {
	ls := p.pool.Get().(*lua.LState)
	// A state that failed is dropped, not reused.
	ok := false
	defer func() {
		if ok {
			ls.SetTop(0)
			p.pool.Put(ls)
		} else {
			ls.Close()
		}
	}()
	if err := p.load(ls); err != nil {
		return false, err
	}
	ls.SetGlobal("obj", toLua(ls, obj))
	if err := ls.CallByParam(lua.P{Fn: ls.GetGlobal("evaluate"), NRet: 1, Protect: true}); err != nil {
		return false, fmt.Errorf("calling evaluate(): %w", err)
	}
	ret := ls.Get(-1)
	ls.Pop(1)
	tbl, isTable := ret.(*lua.LTable)
	if !isTable {
		return false, fmt.Errorf("evaluate() returned %s, want a table {matching=bool, message=string}", ret.Type())
	}
	matching := lua.LVAsBool(tbl.RawGetString("matching"))
	ok = true
	return matching, nil
}

// toLua converts a JSON-like Go value to a Lua value.
func toLua(ls *lua.LState, v any) lua.LValue {
	switch t := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(t)
	case string:
		return lua.LString(t)
	case int64:
		return lua.LNumber(t)
	case int:
		return lua.LNumber(t)
	case int32:
		return lua.LNumber(t)
	case float64:
		return lua.LNumber(t)
	case map[string]any:
		tbl := ls.CreateTable(0, len(t))
		for k, e := range t {
			tbl.RawSetString(k, toLua(ls, e))
		}
		return tbl
	case []any:
		tbl := ls.CreateTable(len(t), 0)
		for _, e := range t {
			tbl.Append(toLua(ls, e))
		}
		return tbl
	default:
		return lua.LString(fmt.Sprint(t))
	}
}
