package health

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

func TestOneValue(t *testing.T) {
	for _, tc := range []struct {
		name, resultType, result string
		want                     float64
		wantErr                  string
	}{
		{"scalar", "scalar", `[1700000000.1, "0.25"]`, 0.25, ""},
		{"one sample", "vector", `[{"metric": {}, "value": [1700000000, "3"]}]`, 3, ""},
		{"no sample", "vector", `[]`, 0, "returned 0 samples"},
		{"two samples", "vector", `[{"value": [1, "1"]}, {"value": [1, "2"]}]`, 0, "returned 2 samples"},
		{"matrix", "matrix", `[]`, 0, "returned a matrix"},
		{"not a number", "scalar", `[1, "many"]`, 0, `"many" is not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oneValue(tc.resultType, json.RawMessage(tc.result))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestMetricClientRefusesBadSources(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    libv1beta1.MetricSource
		secret map[string][]byte
		want   string
	}{
		{"not http", libv1beta1.MetricSource{URL: "ftp://x"}, nil, "not an http(s) address"},
		{"user without password", libv1beta1.MetricSource{URL: "http://x"}, map[string][]byte{"username": []byte("u")}, "username and password go together"},
		{"bad CA", libv1beta1.MetricSource{URL: "https://x"}, map[string][]byte{"ca.crt": []byte("nope")}, "ca.crt holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewMetricClient(tc.src, tc.secret); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A metric check without kind runs its script once with the metrics; with a
// kind, once per object with obj and metrics.
func TestMetricChecksReadMetrics(t *testing.T) {
	script := `function evaluate()
  if metrics["up"] < 1 then return {healthy=false, message="down"} end
  if obj ~= nil and obj.metadata.name == "bad" then return {healthy=false, message="bad object"} end
  return {healthy=true}
end`
	vh := libv1beta1.ValidateHealth{Name: "m", FeatureID: libv1beta1.FeatureHelm, Script: script,
		MetricSource: &libv1beta1.MetricSource{URL: "http://prom:9090"}, MetricQueries: []libv1beta1.MetricQuery{{Name: "up", Query: "up"}}}
	c, err := Compile(0, vh)
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadsObjects() {
		t.Fatal("a metric check without kind reads no objects")
	}
	if r := c.EvaluateWith(nil, map[string]any{"up": 1.0}); !r.Healthy {
		t.Fatalf("up=1: %s", r.Message)
	}
	if r := c.EvaluateWith(nil, map[string]any{"up": 0.0}); r.Healthy || r.Message != "validateHealths[0] m: not healthy: down" {
		t.Fatalf("up=0: %+v", r)
	}
	vh.Version, vh.Kind = "v1", "ConfigMap"
	if c, err = Compile(0, vh); err != nil {
		t.Fatal(err)
	}
	bad := unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "bad"}}}
	if r := c.EvaluateWith([]unstructured.Unstructured{bad}, map[string]any{"up": 1.0}); r.Healthy || !strings.Contains(r.Message, "ConfigMap bad is not healthy: bad object") {
		t.Fatalf("per object: %+v", r)
	}
	vh.Kind, vh.EvaluateCEL = "", []libv1beta1.CELRule{{Name: "r", Rule: "true"}}
	if _, err := Compile(0, vh); err == nil || !strings.Contains(err.Error(), "evaluateCEL needs kind") {
		t.Fatalf("CEL without kind: %v", err)
	}
}
