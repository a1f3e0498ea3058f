package selection

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Cluster selectors and label filters come from users' manifests: compiling
// and matching them never panics, and an accepted selector matches consistently.
func FuzzClusterSelector(f *testing.F) {
	f.Add("env", "prod", "tier", "In", "a", "env", "prod")
	f.Add("", "", "x", "NotIn", "", "x", "y")
	f.Add("bad key!", "v", "k", "Exists", "v", "k", "")
	f.Add("k", "v/w", "k", "Near", "v", "", "")
	f.Add("example.com/k", "v", "example.com/", "DoesNotExist", "", "example.com/k", "v")
	f.Fuzz(func(t *testing.T, key, value, exprKey, op, exprValue, clusterKey, clusterValue string) {
		sel := libv1beta1.Selector{LabelSelector: metav1.LabelSelector{
			MatchLabels:      map[string]string{key: value},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: exprKey, Operator: metav1.LabelSelectorOperator(op), Values: []string{exprValue}}},
		}}
		clusterLabels := map[string]string{clusterKey: clusterValue}
		compiled, err := Compile(sel)
		matched, matchErr := Matches(sel, clusterLabels)
		if (err == nil) != (matchErr == nil) {
			t.Fatalf("Compile error %v but Matches error %v", err, matchErr)
		}
		if err == nil && compiled.Matches(labels.Set(clusterLabels)) != matched {
			t.Fatal("Compile and Matches disagree")
		}
		for _, operation := range []libv1beta1.LabelFilterOperation{libv1beta1.OperationEqual, libv1beta1.OperationDifferent, libv1beta1.OperationHas, libv1beta1.OperationDoesNotHave, libv1beta1.LabelFilterOperation(op)} {
			if filter, err := LabelFilters([]libv1beta1.LabelFilter{{Key: key, Operation: operation, Value: value}}); err == nil {
				_ = filter.Matches(labels.Set(clusterLabels))
			}
		}
	})
}
