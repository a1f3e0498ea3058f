package health_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/health"
)

const replicasScript = `
function evaluate()
  local hs = {healthy = false, message = "waiting for replicas"}
  if obj.status ~= nil and obj.status.availableReplicas == obj.spec.replicas then
    hs.healthy = true
  end
  return hs
end`

func deployment(ns, name string, replicas, available int64, labels map[string]string) unstructured.Unstructured {
	u := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"namespace": ns, "name": name},
		"spec":     map[string]any{"replicas": replicas},
		"status":   map[string]any{"availableReplicas": available},
	}}
	u.SetLabels(labels)
	return u
}

func check(t *testing.T, vh libv1beta1.ValidateHealth) *health.Check {
	t.Helper()
	vh.Name, vh.FeatureID, vh.Group, vh.Version, vh.Kind = "replicas", libv1beta1.FeatureResources, "apps", "v1", "Deployment"
	c, err := health.Compile(0, vh)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUnitHealthLua(t *testing.T) {
	c := check(t, libv1beta1.ValidateHealth{Script: replicasScript, Namespace: "apps"})
	objs := []unstructured.Unstructured{deployment("apps", "b", 2, 2, nil), deployment("apps", "a", 3, 1, nil), deployment("other", "z", 1, 0, nil)}
	r := c.Evaluate(objs)
	want := "validateHealths[0] replicas: Deployment apps/a is not healthy: waiting for replicas"
	if r.Healthy || r.Message != want {
		t.Fatalf("got %+v, want %q", r, want)
	}
	objs[1] = deployment("apps", "a", 3, 3, nil)
	if r := c.Evaluate(objs); !r.Healthy {
		t.Fatalf("got %+v, want healthy (other namespaces are not checked)", r)
	}
	if r := c.Evaluate(nil); !r.Healthy {
		t.Fatalf("no object: %+v, want healthy", r)
	}
}

func TestUnitHealthCELAndLabels(t *testing.T) {
	c := check(t, libv1beta1.ValidateHealth{
		LabelFilters: []libv1beta1.LabelFilter{{Key: "tier", Operation: libv1beta1.OperationEqual, Value: "db"}},
		EvaluateCEL:  []libv1beta1.CELRule{{Name: "available", Rule: "resource.status.availableReplicas >= 1"}},
	})
	objs := []unstructured.Unstructured{deployment("apps", "web", 1, 0, map[string]string{"tier": "web"}), deployment("apps", "db", 1, 1, map[string]string{"tier": "db"})}
	if r := c.Evaluate(objs); !r.Healthy {
		t.Fatalf("got %+v, want healthy (web is filtered out)", r)
	}
	objs[1] = deployment("apps", "db", 1, 0, map[string]string{"tier": "db"})
	if r := c.Evaluate(objs); r.Healthy || !strings.Contains(r.Message, "Deployment apps/db is not healthy: no evaluateCEL rule holds") {
		t.Fatalf("got %+v", r)
	}
}

func TestUnitHealthBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		vh   libv1beta1.ValidateHealth
		want string
	}{
		{"lua syntax", libv1beta1.ValidateHealth{Script: "function evaluate( return end"}, "validateHealths[0] replicas: script: parsing Lua"},
		{"no evaluate", libv1beta1.ValidateHealth{Script: "x = 1"}, "does not define function evaluate()"},
		{"cel type", libv1beta1.ValidateHealth{EvaluateCEL: []libv1beta1.CELRule{{Name: "n", Rule: "1 + 1"}}}, "evaluateCEL[0] n: rule must evaluate to a bool"},
		{"cel syntax", libv1beta1.ValidateHealth{EvaluateCEL: []libv1beta1.CELRule{{Name: "n", Rule: "resource.("}}}, "evaluateCEL[0] n:"},
		{"nothing", libv1beta1.ValidateHealth{}, "neither script nor evaluateCEL is set"},
		{"label filter", libv1beta1.ValidateHealth{Script: replicasScript, LabelFilters: []libv1beta1.LabelFilter{{Key: "a", Operation: "Like"}}}, `labelFilters[0] (key "a"): unknown operation "Like"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vh := tc.vh
			vh.Name, vh.FeatureID, vh.Version, vh.Kind = "replicas", libv1beta1.FeatureResources, "v1", "Deployment"
			_, err := health.Compile(0, vh)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// A script failing at run time makes the object unhealthy with the error.
	c := check(t, libv1beta1.ValidateHealth{Script: "function evaluate() return obj.spec.nothing.deeper end"})
	if r := c.Evaluate([]unstructured.Unstructured{deployment("apps", "a", 1, 1, nil)}); r.Healthy || !strings.Contains(r.Message, "script: calling evaluate()") {
		t.Fatalf("got %+v", r)
	}
}

// preDeployChecks ask that some object is selected; one without script or
// rules only asks that; the other lists pass with none and require a script or rules.
func TestUnitHealthPreDeployChecksRequireObjects(t *testing.T) {
	exists := libv1beta1.ValidateHealth{Name: "ssd", FeatureID: libv1beta1.FeatureResources, Group: "storage.k8s.io", Version: "v1",
		Kind: "StorageClass", LabelFilters: []libv1beta1.LabelFilter{{Key: "tier", Operation: libv1beta1.OperationEqual, Value: "ssd"}}}
	c, err := health.CompileIn(health.PreDeployChecks, 1, exists)
	if err != nil {
		t.Fatal(err)
	}
	want := "preDeployChecks[1] ssd: no StorageClass with labels tier=ssd in the cluster"
	if r := c.Evaluate(nil); r.Healthy || r.Message != want {
		t.Fatalf("no object: %+v, want %q", r, want)
	}
	sc := unstructured.Unstructured{Object: map[string]any{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": "fast"}}}
	sc.SetLabels(map[string]string{"tier": "ssd"})
	if r := c.Evaluate([]unstructured.Unstructured{sc}); !r.Healthy {
		t.Fatalf("one object: %+v, want healthy", r)
	}
	for _, field := range []health.Field{health.ValidateHealths, health.PreDeleteChecks, health.PostDeleteChecks} {
		if _, err := health.CompileIn(field, 0, exists); err == nil || !strings.Contains(err.Error(), string(field)+"[0] ssd: neither script nor evaluateCEL is set") {
			t.Errorf("%s without script or rules: %v", field, err)
		}
	}
	checks, err := health.CompileFor(health.PostDeleteChecks, []libv1beta1.ValidateHealth{
		{Name: "a", FeatureID: libv1beta1.FeatureHelm, Version: "v1", Kind: "Pod", Script: replicasScript},
		{Name: "b", FeatureID: libv1beta1.FeatureResources, Version: "v1", Kind: "Pod", Script: replicasScript},
	}, "")
	if err != nil || len(checks) != 2 {
		t.Fatalf("every feature's checks: %d, %v", len(checks), err)
	}
	if r := checks[0].Evaluate(nil); !r.Healthy {
		t.Fatalf("postDeleteChecks with no object: %+v, want healthy", r)
	}
}
