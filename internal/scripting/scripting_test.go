package scripting_test

import (
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/scripting"
)

// A script that never returns is stopped (bounded by LuaTimeout), and one that
// recurses without end fails; the same program keeps working afterwards.
func TestUnitLuaRunawayScripts(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"endless loop", "function evaluate() while true do end end", "stopped after"},
		{"endless recursion", "function f(n) return f(n + 1) + 1 end\nfunction evaluate() return {v = f(1)} end", "stack overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := scripting.CompileLua(tc.script)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Evaluate(nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	p, err := scripting.CompileLua(`function evaluate() return {matching = obj.a == 1, n = obj.a} end`)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		out, err := p.Evaluate(map[string]any{"obj": map[string]any{"a": int64(1)}})
		if err != nil || out["matching"] != true || out["n"] != float64(1) {
			t.Fatalf("got %v, %v", out, err)
		}
	}
}

// Fuzzing: no script, however broken, panics the compiler or the evaluator.
func FuzzLua(f *testing.F) {
	for _, s := range []string{
		"function evaluate() return {healthy = true} end",
		"function evaluate( return",
		"function evaluate() return obj.a.b.c end",
		"x = 1",
		"function evaluate() return 1 end",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		p, err := scripting.CompileLua(script)
		if err != nil {
			return
		}
		_, _ = p.Evaluate(map[string]any{"obj": map[string]any{"a": map[string]any{"b": "c"}, "n": int64(2), "l": []any{"x", true}}})
	})
}

// Fuzzing: no CEL rule panics the compiler or the evaluator.
func FuzzCEL(f *testing.F) {
	for _, s := range []string{"resource.a == 1", "resource.(", "1 + 1", "resource.l.exists(x, x == 'x')"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		c, err := scripting.CompileCEL(rule, "resource")
		if err != nil {
			return
		}
		_, _ = c.Eval(map[string]any{"a": int64(1), "l": []any{"x"}})
	})
}
