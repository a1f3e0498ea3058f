package profiles

import (
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboat-dev/tugboat/internal/deployer"
)

func TestUnitPermanent(t *testing.T) {
	gk := schema.GroupKind{Kind: "ConfigMap"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"bad input", renderError{errors.New("template: x:1: bad")}, true},
		{"bad input wrapped", fmt.Errorf("helmCharts[0]: %w", renderError{errors.New("missing")}), true},
		{"a conflict among others", errors.Join(errors.New("timeout"), &deployer.ConflictError{}), true},
		{"an object the API server refuses", apierrors.NewInvalid(gk, "x", nil), true},
		{"a bad request", apierrors.NewBadRequest("no"), true},
		{"an unreachable cluster", errors.New("connecting to cluster fleet/a: refused"), false},
		{"a conflict on write", apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "x", errors.New("modified")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := permanent(tc.err); got != tc.want {
				t.Errorf("permanent(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
