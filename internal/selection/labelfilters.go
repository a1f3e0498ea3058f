package selection

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	k8sselection "k8s.io/apimachinery/pkg/selection"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// LabelFilters converts labelFilters (ANDed) to a label selector over objects;
// no filters select everything. Errors name the offending filter.
func LabelFilters(filters []libv1beta1.LabelFilter) (labels.Selector, error) {
	reqs := make([]labels.Requirement, 0, len(filters))
	for i, f := range filters {
		var (
			op     k8sselection.Operator
			values []string
		)
		switch f.Operation {
		case libv1beta1.OperationEqual:
			op, values = k8sselection.Equals, []string{f.Value}
		case libv1beta1.OperationDifferent:
			op, values = k8sselection.NotEquals, []string{f.Value}
		case libv1beta1.OperationHas:
			op = k8sselection.Exists
		case libv1beta1.OperationDoesNotHave:
			op = k8sselection.DoesNotExist
		default:
			return nil, fmt.Errorf("labelFilters[%d] (key %q): unknown operation %q (want Equal, Different, Has or DoesNotHave)", i, f.Key, f.Operation)
		}
		r, err := labels.NewRequirement(f.Key, op, values)
		if err != nil {
			return nil, fmt.Errorf("labelFilters[%d] (key %q): %w", i, f.Key, err)
		}
		reqs = append(reqs, *r)
	}
	return labels.Everything().Add(reqs...), nil
}
