package classifier_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// TestValidationRejectsBadClassifiers: what no cluster could carry, or no
// version comparison could read, is refused by the API server with a message
// naming the field, instead of being stored and failing later.
func TestValidationRejectsBadClassifiers(t *testing.T) {
	label := func(key, value string) []libv1beta1.ClassifierLabel {
		return []libv1beta1.ClassifierLabel{{Key: key, Value: value}}
	}
	for _, tc := range []struct {
		name string
		obj  *libv1beta1.Classifier
		want string
	}{
		{name: "label key with a space", want: "spec.classifierLabels[0].key",
			obj: &libv1beta1.Classifier{Spec: libv1beta1.ClassifierSpec{ClassifierLabels: label("has space", "x")}}},
		{name: "label value too long", want: "spec.classifierLabels[0].value",
			obj: &libv1beta1.Classifier{Spec: libv1beta1.ClassifierSpec{ClassifierLabels: label("ok", strings.Repeat("a", 64))}}},
		{name: "label value with a slash", want: "spec.classifierLabels[0].value",
			obj: &libv1beta1.Classifier{Spec: libv1beta1.ClassifierSpec{ClassifierLabels: label("ok", "a/b")}}},
		{name: "no labels", want: "spec.classifierLabels",
			obj: &libv1beta1.Classifier{Spec: libv1beta1.ClassifierSpec{ClassifierLabels: []libv1beta1.ClassifierLabel{}}}},
		{name: "version that is not one", want: "spec.kubernetesVersionConstraints[0].version",
			obj: &libv1beta1.Classifier{Spec: libv1beta1.ClassifierSpec{ClassifierLabels: label("ok", "yes"),
				KubernetesVersionConstraints: []libv1beta1.KubernetesVersionConstraint{{Version: "latest", Comparison: libv1beta1.ComparisonEqual}}}}},
		{name: "unknown comparison", want: "spec.kubernetesVersionConstraints[0].comparison",
			obj: &libv1beta1.Classifier{Spec: libv1beta1.ClassifierSpec{ClassifierLabels: label("ok", "yes"),
				KubernetesVersionConstraints: []libv1beta1.KubernetesVersionConstraint{{Version: "1.30.0", Comparison: "Around"}}}}},
		{name: "deployedResourceConstraint without selectors", want: "spec.deployedResourceConstraint.resourceSelectors",
			obj: &libv1beta1.Classifier{Spec: libv1beta1.ClassifierSpec{ClassifierLabels: label("ok", "yes"),
				DeployedResourceConstraint: &libv1beta1.DeployedResourceConstraint{ResourceSelectors: []libv1beta1.ResourceSelector{}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.obj.ObjectMeta = metav1.ObjectMeta{Name: "invalid"}
			err := mgmt.Create(context.Background(), tc.obj)
			if err == nil {
				_ = mgmt.Delete(context.Background(), tc.obj)
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not name %s: %v", tc.want, err)
			}
		})
	}
	mcc := &libv1beta1.ManagementClusterClassifier{
		ObjectMeta: metav1.ObjectMeta{Name: "invalid"},
		Spec: libv1beta1.ManagementClusterClassifierSpec{
			MatchResources:    []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap"}},
			ClassificationLua: "function evaluate() return {} end",
			ClassifierLabels:  label("Bad Key", "x"),
		},
	}
	if err := mgmt.Create(context.Background(), mcc); err == nil || !strings.Contains(err.Error(), "spec.classifierLabels[0].key") {
		t.Fatalf("ManagementClusterClassifier with a bad label key: %v", err)
	}
}
