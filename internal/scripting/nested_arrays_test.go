package scripting

import (
	"reflect"
	"testing"
)

// A returned table holding an array of tables (as HealthCheck scripts return
// {resources = {{...}, {...}}}) comes back as a slice of maps, in order.
func TestUnitEvaluateNestedArrays(t *testing.T) {
	p, err := CompileLua(`function evaluate()
  return {resources = {{name = "a", n = 1}, {name = "b"}}, empty = {}, words = {"x", "y"}}
end`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Evaluate(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"resources": []any{map[string]any{"name": "a", "n": float64(1)}, map[string]any{"name": "b"}},
		"empty":     map[string]any{},
		"words":     []any{"x", "y"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %#v, want %#v", out, want)
	}
}
