package profiles

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
)

func TestUnitMergeValues(t *testing.T) {
	for _, tc := range []struct {
		name           string
		dst, src, want map[string]any
	}{
		{"into empty", map[string]any{}, map[string]any{"a": 1}, map[string]any{"a": 1}},
		{"src wins", map[string]any{"a": 1, "b": 2}, map[string]any{"a": 3}, map[string]any{"a": 3, "b": 2}},
		{"maps merge deeply",
			map[string]any{"image": map[string]any{"repo": "x", "tag": "1"}},
			map[string]any{"image": map[string]any{"tag": "2"}},
			map[string]any{"image": map[string]any{"repo": "x", "tag": "2"}}},
		{"a map replaces a scalar", map[string]any{"a": "s"}, map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": map[string]any{"b": 1}}},
		{"a scalar replaces a map", map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": "s"}, map[string]any{"a": "s"}},
		{"lists are replaced", map[string]any{"l": []any{1, 2}}, map[string]any{"l": []any{3}}, map[string]any{"l": []any{3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mergeValues(tc.dst, tc.src); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("merged %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnitParseValues(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]any
		wantErr    string
	}{
		{name: "a map", text: "a: 1\nb: {c: x}", want: map[string]any{"a": float64(1), "b": map[string]any{"c": "x"}}},
		{name: "blank is no values", text: "  \n", want: map[string]any{}},
		{name: "null is no values", text: "null", want: map[string]any{}},
		{name: "invalid YAML names the template", text: "a: [unclosed", wantErr: "helmCharts[0] values: parsing YAML"},
		{name: "a list is not a map", text: "- a", wantErr: "helmCharts[0] values: parsing YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseValues("helmCharts[0] values", tc.text)
			if tc.wantErr != "" {
				var re renderError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &re) {
					t.Fatalf("error %v, want a renderError containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("values %v (error %v), want %v", got, err, tc.want)
			}
		})
	}
}

func TestUnitHelmHash(t *testing.T) {
	chart := libv1beta1.HelmChart{ChartName: "c", ChartVersion: "1.0.0", ReleaseName: "r", ReleaseNamespace: "ns"}
	charts := func(mutate func(*renderedChart)) []renderedChart {
		rc := renderedChart{
			Desired: helm.Desired{Chart: chart, Values: map[string]any{"a": 1, "b": map[string]any{"c": "x"}}},
			sources: []valuesSource{{Kind: "ConfigMap", Namespace: "ns", Name: "v", Data: map[string]string{"k": "a: 1"}}},
		}
		if mutate != nil {
			mutate(&rc)
		}
		return []renderedChart{rc}
	}
	hash := func(rcs []renderedChart) []byte {
		t.Helper()
		h, err := helmHash(rcs)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash(charts(nil))
	if !bytes.Equal(base, hash(charts(nil))) {
		t.Fatal("the same charts hash differently")
	}
	for _, tc := range []struct {
		name   string
		mutate func(*renderedChart)
		same   bool
	}{
		{"values in another order", func(rc *renderedChart) { rc.Values = map[string]any{"b": map[string]any{"c": "x"}, "a": 1} }, true},
		{"rendered values kept out", func(rc *renderedChart) { rc.sources[0].rendered = []renderedValue{{key: "k", text: "a: 1"}} }, true},
		{"a value", func(rc *renderedChart) { rc.Values["a"] = 2 }, false},
		{"the chart version", func(rc *renderedChart) { rc.Chart.ChartVersion = "1.0.1" }, false},
		{"a valuesFrom object", func(rc *renderedChart) { rc.sources[0].Data["k"] = "a: 2" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bytes.Equal(base, hash(charts(tc.mutate))); got != tc.same {
				t.Errorf("same hash %v, want %v", got, tc.same)
			}
		})
	}
}
