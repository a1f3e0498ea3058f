package profiles

import (
	"testing"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// The spec a feature deploys is spec.patches followed by those of
// spec.patchesFrom; the summary's own spec is never changed.
func TestUnitFeatureRunSpec(t *testing.T) {
	own := []libv1beta1.Patch{{Patch: "own"}}
	for _, tc := range []struct {
		name  string
		own   []libv1beta1.Patch
		extra []libv1beta1.Patch
		want  []string
	}{
		{"no patchesFrom: the stored spec", own, nil, []string{"own"}},
		{"patchesFrom after spec.patches", own, []libv1beta1.Patch{{Patch: "from-a"}, {Patch: "from-b"}}, []string{"own", "from-a", "from-b"}},
		{"patchesFrom alone", nil, []libv1beta1.Patch{{Patch: "from-a"}}, []string{"from-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &configv1beta1.ClusterSummary{}
			s.Spec.ClusterProfileSpec.Patches = make([]libv1beta1.Patch, len(tc.own), len(tc.own)+4) // room to append into
			copy(s.Spec.ClusterProfileSpec.Patches, tc.own)
			run := &featureRun{s: s, extraPatches: tc.extra}
			got := run.spec()
			var texts []string
			for _, p := range got.Patches {
				texts = append(texts, p.Patch)
			}
			if len(texts) != len(tc.want) {
				t.Fatalf("patches %v, want %v", texts, tc.want)
			}
			for i := range texts {
				if texts[i] != tc.want[i] {
					t.Fatalf("patches %v, want %v", texts, tc.want)
				}
			}
			if len(s.Spec.ClusterProfileSpec.Patches) != len(tc.own) || s.Spec.ClusterProfileSpec.Patches[:cap(s.Spec.ClusterProfileSpec.Patches)][len(tc.own):][0].Patch != "" {
				t.Errorf("the summary's own spec changed: %v", s.Spec.ClusterProfileSpec.Patches)
			}
			if len(tc.extra) == 0 && got != &s.Spec.ClusterProfileSpec {
				t.Error("without patchesFrom the stored spec is not used as it is")
			}
		})
	}
}
