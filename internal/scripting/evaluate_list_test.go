package scripting_test

import (
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/scripting"
)

// EvaluateList passes its arguments to evaluate(), sets the globals too, and
// reads an array of tables; anything else is an error saying what came back.
func TestUnitEvaluateList(t *testing.T) {
	script := `
function evaluate(items)
  if prefix == "fail" then return "nope" end
  if prefix == "mixed" then return {{a = 1}, "x"} end
  local out = {}
  for _, it in ipairs(items) do table.insert(out, {name = prefix .. it.name}) end
  return out
end`
	p, err := scripting.CompileLua(script)
	if err != nil {
		t.Fatal(err)
	}
	items := []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}
	got, err := p.EvaluateList(map[string]any{"prefix": "cluster-"}, items)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["name"] != "cluster-a" || got[1]["name"] != "cluster-b" {
		t.Fatalf("got %v", got)
	}
	for prefix, want := range map[string]string{"fail": "returned string, want an array of tables", "mixed": "element 2 is string"} {
		if _, err := p.EvaluateList(map[string]any{"prefix": prefix}, items); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", prefix, err, want)
		}
	}
	// The state that failed was dropped: the program still works.
	if got, err := p.EvaluateList(map[string]any{"prefix": "x-"}, items[:1]); err != nil || len(got) != 1 {
		t.Fatalf("after failures: %v, %v", got, err)
	}
}
