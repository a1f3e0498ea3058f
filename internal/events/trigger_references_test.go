package events

import (
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// A ConfigMap or Secret change brings back the triggers whose spec may read it:
// by name, or by a name that is a template.
func TestUnitMayReference(t *testing.T) {
	cm := libv1beta1.ConfigMapReferencedKind
	for _, tc := range []struct {
		name string
		spec libv1beta1.EventTriggerSpec
		want bool
	}{
		{"policyRef by name", libv1beta1.EventTriggerSpec{PolicyRefs: []libv1beta1.PolicyRef{{Kind: cm, Name: "x"}}}, true},
		{"policyRef of another name", libv1beta1.EventTriggerSpec{PolicyRefs: []libv1beta1.PolicyRef{{Kind: cm, Name: "y"}}}, false},
		{"policyRef of another kind", libv1beta1.EventTriggerSpec{PolicyRefs: []libv1beta1.PolicyRef{{Kind: libv1beta1.SecretReferencedKind, Name: "x"}}}, false},
		{"templated name", libv1beta1.EventTriggerSpec{PolicyRefs: []libv1beta1.PolicyRef{{Kind: cm, Name: "{{ .Cluster.metadata.name }}"}}}, true},
		{"helm valuesFrom", libv1beta1.EventTriggerSpec{HelmCharts: []libv1beta1.HelmChart{{ValuesFrom: []libv1beta1.ValueFrom{{Kind: cm, Name: "x"}}}}}, true},
		{"kustomizationRef", libv1beta1.EventTriggerSpec{KustomizationRefs: []libv1beta1.KustomizationRef{{Kind: cm, Name: "x"}}}, true},
		{"kustomization valuesFrom", libv1beta1.EventTriggerSpec{KustomizationRefs: []libv1beta1.KustomizationRef{{Kind: cm, Name: "k", ValuesFrom: []libv1beta1.ValueFrom{{Kind: cm, Name: "x"}}}}}, true},
		{"patchesFrom", libv1beta1.EventTriggerSpec{PatchesFrom: []libv1beta1.ValueFrom{{Kind: cm, Name: "x"}}}, true},
		{"configMapGenerator", libv1beta1.EventTriggerSpec{ConfigMapGenerator: []libv1beta1.GeneratorReference{{Name: "x"}}}, true},
		{"secretGenerator is not asked for a ConfigMap", libv1beta1.EventTriggerSpec{SecretGenerator: []libv1beta1.GeneratorReference{{Name: "x"}}}, false},
		{"nothing", libv1beta1.EventTriggerSpec{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mayReference(&tc.spec, cm, "x"); got != tc.want {
				t.Errorf("mayReference = %v, want %v", got, tc.want)
			}
		})
	}
}
