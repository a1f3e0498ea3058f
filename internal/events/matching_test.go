package events

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

func secret(namespace, name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"namespace": namespace, "name": name},
		"data":       map[string]any{"username": "YXBw", "password": "c2VjcmV0"},
	}}
	u.SetLabels(labels)
	return u
}

func deployment(replicas int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"namespace": "web", "name": "nginx"},
		"spec":       map[string]any{"replicas": replicas},
	}}
}

const luaReplicas = `
function evaluate()
  local hs = {}
  hs.matching = false
  hs.message = ""
  if obj.spec.replicas == 1 then
    hs.matching = true
    hs.message = "single replica"
  end
  return hs
end`

func TestMatcherSelection(t *testing.T) {
	secretSel := libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret"}
	deploySel := libv1beta1.ResourceSelector{Group: "apps", Version: "v1", Kind: "Deployment"}
	with := func(base libv1beta1.ResourceSelector, change func(*libv1beta1.ResourceSelector)) libv1beta1.ResourceSelector {
		change(&base)
		return base
	}
	reload := map[string]string{"cnpg.io/reload": "true"}
	tests := []struct {
		name string
		sel  libv1beta1.ResourceSelector
		obj  *unstructured.Unstructured
		want bool
	}{
		{"kind only", secretSel, secret("a", "s", nil), true},
		{"other kind", deploySel, secret("a", "s", nil), false},
		{"other version", with(secretSel, func(s *libv1beta1.ResourceSelector) { s.Version = "v2" }), secret("a", "s", nil), false},
		{"namespace matches", with(secretSel, func(s *libv1beta1.ResourceSelector) { s.Namespace = "a" }), secret("a", "s", nil), true},
		{"namespace differs", with(secretSel, func(s *libv1beta1.ResourceSelector) { s.Namespace = "b" }), secret("a", "s", nil), false},
		{"name matches", with(secretSel, func(s *libv1beta1.ResourceSelector) { s.Name = "s" }), secret("a", "s", nil), true},
		{"name differs", with(secretSel, func(s *libv1beta1.ResourceSelector) { s.Name = "t" }), secret("a", "s", nil), false},
		{"Equal", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationEqual, Value: "true"}}
		}), secret("a", "s", reload), true},
		{"Equal other value", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationEqual, Value: "false"}}
		}), secret("a", "s", reload), false},
		{"Equal missing label", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationEqual, Value: "true"}}
		}), secret("a", "s", nil), false},
		{"Different", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationDifferent, Value: "false"}}
		}), secret("a", "s", reload), true},
		{"Different same value", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationDifferent, Value: "true"}}
		}), secret("a", "s", reload), false},
		{"Has", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationHas}}
		}), secret("a", "s", reload), true},
		{"Has missing", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationHas}}
		}), secret("a", "s", nil), false},
		{"DoesNotHave", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationDoesNotHave}}
		}), secret("a", "s", nil), true},
		{"DoesNotHave present", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationDoesNotHave}}
		}), secret("a", "s", reload), false},
		{"selector ANDed with filters", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.LabelFilters = []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationHas}}
			s.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}
		}), secret("a", "s", reload), false},
		{"selector matches", with(secretSel, func(s *libv1beta1.ResourceSelector) {
			s.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "cnpg.io/reload", Operator: metav1.LabelSelectorOpIn, Values: []string{"true"}}}}
		}), secret("a", "s", reload), true},
		{"CEL true", with(deploySel, func(s *libv1beta1.ResourceSelector) {
			s.EvaluateCEL = []libv1beta1.CELRule{{Name: "single", Rule: "resource.spec.replicas == 1"}}
		}), deployment(1), true},
		{"CEL false", with(deploySel, func(s *libv1beta1.ResourceSelector) {
			s.EvaluateCEL = []libv1beta1.CELRule{{Name: "single", Rule: "resource.spec.replicas == 1"}}
		}), deployment(3), false},
		{"CEL any rule", with(deploySel, func(s *libv1beta1.ResourceSelector) {
			s.EvaluateCEL = []libv1beta1.CELRule{
				{Name: "single", Rule: "resource.spec.replicas == 1"},
				{Name: "web", Rule: "resource.metadata.namespace == 'web'"},
			}
		}), deployment(3), true},
		{"CEL missing field in one rule", with(deploySel, func(s *libv1beta1.ResourceSelector) {
			s.EvaluateCEL = []libv1beta1.CELRule{
				{Name: "missing", Rule: "resource.status.ready == true"},
				{Name: "web", Rule: "resource.metadata.namespace == 'web'"},
			}
		}), deployment(3), true},
		{"Lua true", with(deploySel, func(s *libv1beta1.ResourceSelector) { s.Evaluate = luaReplicas }), deployment(1), true},
		{"Lua false", with(deploySel, func(s *libv1beta1.ResourceSelector) { s.Evaluate = luaReplicas }), deployment(2), false},
		{"CEL and Lua both needed", with(deploySel, func(s *libv1beta1.ResourceSelector) {
			s.Evaluate = luaReplicas
			s.EvaluateCEL = []libv1beta1.CELRule{{Name: "other", Rule: "resource.metadata.namespace == 'other'"}}
		}), deployment(1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := CompileSelector(tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Matches(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatcherCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		sel  libv1beta1.ResourceSelector
		want string
	}{
		{"no kind", libv1beta1.ResourceSelector{Version: "v1"}, "kind is required"},
		{"bad operation", libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", LabelFilters: []libv1beta1.LabelFilter{{Key: "a", Operation: "Like"}}}, `labelFilters[0] (key "a"): unknown operation "Like"`},
		{"bad label key", libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", LabelFilters: []libv1beta1.LabelFilter{{Key: "a b", Operation: libv1beta1.OperationHas}}}, `labelFilters[0] (key "a b")`},
		{"bad CEL", libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", EvaluateCEL: []libv1beta1.CELRule{{Name: "broken", Rule: "resource.("}}}, "evaluateCEL[0] (broken)"},
		{"CEL not bool", libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", EvaluateCEL: []libv1beta1.CELRule{{Name: "str", Rule: "'x'"}}}, "must evaluate to a bool"},
		{"bad Lua", libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", Evaluate: "function evaluate( end"}, "evaluate: parsing Lua"},
		{"Lua without evaluate", libv1beta1.ResourceSelector{Version: "v1", Kind: "Secret", Evaluate: "x = 1"}, "does not define function evaluate()"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileSelector(tc.sel)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestMatcherLuaRuntimeError(t *testing.T) {
	m, err := CompileSelector(libv1beta1.ResourceSelector{Group: "apps", Version: "v1", Kind: "Deployment",
		Evaluate: "function evaluate()\n  return obj.status.missing.field\nend"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Matches(deployment(1)); err == nil || !strings.Contains(err.Error(), "Deployment web/nginx: evaluate") {
		t.Fatalf("error %v, want one naming the object", err)
	}
}

func BenchmarkMatcher(b *testing.B) {
	cases := map[string]libv1beta1.ResourceSelector{
		"labels": {Version: "v1", Kind: "Secret", LabelFilters: []libv1beta1.LabelFilter{{Key: "cnpg.io/reload", Operation: libv1beta1.OperationEqual, Value: "true"}}},
		"cel":    {Version: "v1", Kind: "Secret", EvaluateCEL: []libv1beta1.CELRule{{Name: "ns", Rule: "resource.metadata.namespace == 'a'"}}},
		"lua":    {Version: "v1", Kind: "Secret", Evaluate: "function evaluate()\n  return {matching = obj.metadata.namespace == 'a'}\nend"},
	}
	obj := secret("a", "s", map[string]string{"cnpg.io/reload": "true"})
	for name, sel := range cases {
		b.Run(name, func(b *testing.B) {
			m, err := CompileSelector(sel)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if ok, err := m.Matches(obj); err != nil || !ok {
					b.Fatalf("Matches = %v, %v", ok, err)
				}
			}
		})
	}
}
