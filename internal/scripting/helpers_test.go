package scripting

import (
	"strings"
	"testing"
)

// The helpers of Lua templates: getResource (copy and lookup), getLabel,
// getAnnotation, base64, json and yaml (required as modules), strings.
func TestLuaHelpers(t *testing.T) {
	p, err := CompileLuaWithHelpers(`
local json = require("json")
local yaml = require("yaml")
local strings = require("strings")
function evaluate()
  local clean = getResource(obj)
  local byName = getResource(list, "b")
  local byKind = getResource(list, "Secret/ns/b")
  local keyed = getResource(refs, "Creds")
  local decoded = json.decode('{"n": 3, "l": ["x", "y"]}')
  local fromYAML = yaml.decode("a: {b: c}")
  return {
    rv = clean.metadata.resourceVersion == nil and clean.metadata.name or "kept",
    byName = byName.kind,
    byKind = byKind.metadata.namespace,
    missing = getResource(list, "nope") == nil,
    keyed = keyed.kind,
    label = getLabel(obj, "app"),
    noLabel = getLabel(obj, "none") == nil,
    annotation = getAnnotation(obj, "note"),
    b64 = base64Encode("hello"),
    unb64 = base64Decode("aGVsbG8="),
    json = json.encode({a = 1}),
    n = decoded.n + #decoded.l,
    yaml = yaml.encode({k = "v"}),
    nested = fromYAML.a.b,
    upper = strings.ToUpper("abc"),
    split = strings.Join(strings.Split("a-b-c", "-"), "+"),
    has = strings.HasPrefix("tugboat", "tug"),
    replaced = strings.Replace("aaa", "a", "b"),
  }
end`)
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"name": "cm", "resourceVersion": "7", "uid": "u",
		"labels": map[string]any{"app": "web"}, "annotations": map[string]any{"note": "hi"}}}
	list := []any{
		map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"name": "a", "namespace": "ns"}},
		map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "b", "namespace": "ns"}},
	}
	refs := map[string]any{"Creds": map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "c"}}}
	out, err := p.Evaluate(map[string]any{"obj": obj, "list": list, "refs": refs})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"rv": "cm", "byName": "Secret", "byKind": "ns", "missing": true, "keyed": "Secret", "label": "web", "noLabel": true,
		"annotation": "hi", "b64": "aGVsbG8=", "unb64": "hello", "json": `{"a":1}`, "n": float64(5), "yaml": "k: v\n",
		"nested": "c", "upper": "ABC", "split": "a+b+c", "has": true, "replaced": "bbb",
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s = %#v, want %#v", k, out[k], v)
		}
	}
}

// A helper given bad input fails the call with a message naming it.
func TestLuaHelperErrors(t *testing.T) {
	p, err := CompileLuaWithHelpers(`function evaluate() return {v = base64Decode("%%%")} end`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Evaluate(nil); err == nil || !strings.Contains(err.Error(), "base64Decode") {
		t.Fatalf("err = %v, want one naming base64Decode", err)
	}
	// Without helpers, a script calling one fails.
	plain, err := CompileLua(`function evaluate() return {v = base64Encode("x")} end`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Evaluate(nil); err == nil {
		t.Fatal("base64Encode is available without helpers")
	}
}
