package clusterpromotion_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
)

func ptrIntOrString(s string) *intstr.IntOrString {
	v := intstr.FromString(s)
	return &v
}

// Stages Tugboat cannot generate a ClusterProfile for stall the promotion with
// a message naming the cause, and nothing is deployed: a ClusterProfile of the
// generated name that belongs to someone else, a generated name too long.
func TestStagesThatCannotBeGeneratedStall(t *testing.T) {
	ctx := context.Background()
	mine := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "clash-dev"}}
	mine.Spec.ClusterSelector.MatchLabels = map[string]string{"env": "nowhere"}
	if err := mgmt.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), mine) })
	long := strings.Repeat("l", 250)
	for _, tc := range []struct{ name, want string }{
		{"clash", "ClusterProfile clash-dev exists and does not belong to ClusterPromotion clash"},
		{long, "is not valid"},
	} {
		createPromotion(t, &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: tc.name}, Spec: configv1beta1.ClusterPromotionSpec{
			Stages: []configv1beta1.Stage{stage("dev", nil), stage("prod", nil)},
		}})
		waitPromotion(t, tc.name, "stalled", readyIs(metav1.ConditionFalse, "InvalidStage", tc.want))
		eventFor(t, tc.name, "InvalidStage", tc.want)
	}
	// The profile of the clash is left as it was.
	if err := mgmt.Get(ctx, types.NamespacedName{Name: "clash-dev"}, mine); err != nil {
		t.Fatal(err)
	}
	if len(mine.OwnerReferences) != 0 || mine.Spec.ClusterSelector.MatchLabels["env"] != "nowhere" {
		t.Fatalf("ClusterProfile clash-dev was changed: %+v", mine)
	}
}
