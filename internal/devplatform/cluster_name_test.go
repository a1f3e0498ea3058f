package devplatform_test

import (
	"errors"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/devplatform"
)

// A cluster created on request names an API server, a namespace and a
// SveltosCluster: a DNS-1123 label that is not a namespace Kubernetes keeps.
func TestUnitValidateClusterName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"stg-1", true},
		{"staging", true},
		{"a", true},
		{"", false},
		{"Stg", false},
		{"stg_1", false},
		{"-stg", false},
		{"stg.1", false},
		{"a-name-that-is-far-too-long-for-a-namespace-of-kubernetes-really", false},
		{"default", false},
		{"kube-system", false},
	} {
		err := devplatform.ValidateClusterName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, devplatform.ErrInvalidCluster) {
			t.Errorf("%q: %v does not wrap ErrInvalidCluster", tc.name, err)
		}
	}
}
