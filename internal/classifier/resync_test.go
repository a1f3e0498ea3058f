package classifier_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/classifier"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// TestResyncWithoutChangeWritesNothing: a change in a watched kind that does not
// change the outcome re-evaluates the Classifier but writes nothing — not the
// cluster's labels, not its report — while a change that matters does.
func TestResyncWithoutChangeWritesNothing(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	cl := &libv1beta1.Classifier{
		ObjectMeta: metav1.ObjectMeta{Name: "steady"},
		Spec: libv1beta1.ClassifierSpec{
			DeployedResourceConstraint: &libv1beta1.DeployedResourceConstraint{
				ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: "steady",
					LabelFilters: []libv1beta1.LabelFilter{{Key: "steady", Operation: libv1beta1.OperationEqual, Value: "yes"}}}},
			},
			ClassifierLabels: []libv1beta1.ClassifierLabel{{Key: "steady", Value: "yes"}},
		},
	}
	create(t, mgmt, cl)
	deleteAtEnd(t, cl)
	edge1, edge2 := managedClient(t, "edge-1"), managedClient(t, "edge-2")
	for _, c := range managed {
		ensureNamespace(t, managedClient(t, c), "steady")
	}
	create(t, edge1, configMap("steady", "marker", map[string]string{"steady": "yes"}, nil))
	testenv.Eventually(t, "edge-1 labelled", labelIs(t, "edge-1", "steady", "yes"))
	reportKey := types.NamespacedName{Namespace: fleetNamespace, Name: "sveltos--steady--edge-1"}
	report := &libv1beta1.ClassifierReport{}
	testenv.Eventually(t, "edge-1 report processed", func() error {
		if err := mgmt.Get(ctx, reportKey, report); err != nil {
			return err
		}
		if !report.Spec.Match || report.Status.Phase == nil {
			return fmt.Errorf("report %+v %+v", report.Spec, report.Status)
		}
		return nil
	})
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(ctx, clusterKey("edge-1"), sc); err != nil {
		t.Fatal(err)
	}
	labelsBefore, annotationsBefore := sc.Labels, sc.Annotations

	// A ConfigMap the selector does not select: the Classifier looks again, nothing changes.
	create(t, edge1, configMap("steady", "unrelated", nil, nil))
	// Then one that matters, in edge-2: once it is labelled, the first was processed too.
	create(t, edge2, configMap("steady", "marker", map[string]string{"steady": "yes"}, nil))
	testenv.Eventually(t, "edge-2 labelled", labelIs(t, "edge-2", "steady", "yes"))

	after := &libv1beta1.ClassifierReport{}
	if err := mgmt.Get(ctx, reportKey, after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != report.ResourceVersion {
		t.Fatalf("edge-1's report was written again (resourceVersion %s → %s)", report.ResourceVersion, after.ResourceVersion)
	}
	if err := mgmt.Get(ctx, clusterKey("edge-1"), sc); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(sc.Labels, labelsBefore) || sc.Annotations[classifier.ManagedLabelsAnnotation] != annotationsBefore[classifier.ManagedLabelsAnnotation] {
		t.Fatalf("edge-1's labels changed: %v → %v", labelsBefore, sc.Labels)
	}
}
