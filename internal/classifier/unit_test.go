package classifier

import (
	"maps"
	"slices"
	"strings"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

func TestUnitParseKubeVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want kubeVersion
		err  bool
	}{
		{in: "v1.30.2", want: kubeVersion{1, 30, 2}},
		{in: "1.30.2", want: kubeVersion{1, 30, 2}},
		{in: "v1.29.4-eks-036c24b", want: kubeVersion{1, 29, 4}},
		{in: "v1.31.0+k3s1", want: kubeVersion{1, 31, 0}},
		{in: "1.28", want: kubeVersion{1, 28, 0}},
		{in: "one.two", err: true},
		{in: "1", err: true},
		{in: "1.2.3.4", err: true},
	} {
		got, err := parseKubeVersion(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("parseKubeVersion(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestUnitVersionConstraints(t *testing.T) {
	v := kubeVersion{1, 30, 2}
	for _, tc := range []struct {
		comparison libv1beta1.KubernetesComparison
		version    string
		want       bool
	}{
		{libv1beta1.ComparisonEqual, "1.30.2", true},
		{libv1beta1.ComparisonEqual, "1.30.3", false},
		{libv1beta1.ComparisonNotEqual, "1.30.3", true},
		{libv1beta1.ComparisonGreaterThan, "1.30.1", true},
		{libv1beta1.ComparisonGreaterThan, "1.30.2", false},
		{libv1beta1.ComparisonLessThan, "1.31.0", true},
		{libv1beta1.ComparisonLessThan, "v1.9.0", false}, // numeric, not textual
		{libv1beta1.ComparisonGreaterThanOrEqualTo, "1.30.2", true},
		{libv1beta1.ComparisonLessThanOrEqualTo, "1.30.1", false},
	} {
		cs, err := compileVersionConstraints([]libv1beta1.KubernetesVersionConstraint{{Version: tc.version, Comparison: tc.comparison}})
		if err != nil {
			t.Fatal(err)
		}
		if got := unmetVersionConstraint(cs, v) == ""; got != tc.want {
			t.Errorf("%s %s %s = %v, want %v", v, tc.comparison, tc.version, got, tc.want)
		}
	}
	if _, err := compileVersionConstraints([]libv1beta1.KubernetesVersionConstraint{{Version: "latest", Comparison: libv1beta1.ComparisonEqual}}); err == nil ||
		!strings.Contains(err.Error(), "kubernetesVersionConstraints[0]") {
		t.Errorf("bad version: %v", err)
	}
}

func TestUnitPlanLabels(t *testing.T) {
	me, other := "Classifier/me", "Classifier/other"
	want := []libv1beta1.ClassifierLabel{{Key: "gpu", Value: "true"}}
	for _, tc := range []struct {
		name                  string
		labels, owners        map[string]string
		want                  []libv1beta1.ClassifierLabel
		wantLabels, wantOwner map[string]string
		changed               bool
		managed               []string
		unmanaged             string
	}{
		{name: "free key is taken", labels: nil, owners: nil, want: want,
			wantLabels: map[string]string{"gpu": "true"}, wantOwner: map[string]string{"gpu": me}, changed: true, managed: []string{"gpu"}},
		{name: "own key, unchanged", labels: map[string]string{"gpu": "true"}, owners: map[string]string{"gpu": me}, want: want,
			wantLabels: map[string]string{"gpu": "true"}, wantOwner: map[string]string{"gpu": me}, managed: []string{"gpu"}},
		{name: "own key, value changed in spec", labels: map[string]string{"gpu": "false"}, owners: map[string]string{"gpu": me}, want: want,
			wantLabels: map[string]string{"gpu": "true"}, wantOwner: map[string]string{"gpu": me}, changed: true, managed: []string{"gpu"}},
		{name: "key of another classifier", labels: map[string]string{"gpu": "no"}, owners: map[string]string{"gpu": other}, want: want,
			wantLabels: map[string]string{"gpu": "no"}, wantOwner: map[string]string{"gpu": other}, unmanaged: "managed by Classifier other"},
		{name: "key set by a person", labels: map[string]string{"gpu": "maybe"}, want: want,
			wantLabels: map[string]string{"gpu": "maybe"}, wantOwner: map[string]string{}, unmanaged: "was not set by a classifier"},
		{name: "stops matching: own keys go, others stay", labels: map[string]string{"gpu": "true", "team": "x", "zone": "a"},
			owners: map[string]string{"gpu": me, "zone": other}, want: nil,
			wantLabels: map[string]string{"team": "x", "zone": "a"}, wantOwner: map[string]string{"zone": other}, changed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planLabels(tc.labels, tc.owners, me, tc.want)
			if !maps.Equal(p.labels, tc.wantLabels) || !maps.Equal(p.owners, tc.wantOwner) || p.changed != tc.changed || !slices.Equal(p.managed, tc.managed) {
				t.Fatalf("plan %+v", p)
			}
			if tc.unmanaged == "" && len(p.unmanaged) != 0 || tc.unmanaged != "" && (len(p.unmanaged) != 1 || !strings.Contains(*p.unmanaged[0].FailureMessage, tc.unmanaged)) {
				t.Fatalf("unmanaged %+v", p.unmanaged)
			}
		})
	}
}
