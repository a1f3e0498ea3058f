package classifier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/classifier"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

func notFound(obj client.Object, key types.NamespacedName) error {
	err := mgmt.Get(context.Background(), key, obj)
	if err == nil {
		return fmt.Errorf("%s still exists", key)
	}
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// TestDeletingAClassifierRemovesItsLabelsAndReports: the finalizer takes off
// the labels the Classifier manages (and only those: a label a person set on
// another key stays) and deletes its ClassifierReports.
func TestDeletingAClassifierRemovesItsLabelsAndReports(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	if err := clusters.SetLabels(ctx, mgmt, clusterKey("edge-1"), map[string]string{"owner-team": "blue"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.SetLabels(ctx, mgmt, clusterKey("edge-1"), map[string]string{"owner-team": ""}) })
	cl := everyCluster("to-delete", libv1beta1.ClassifierLabel{Key: "classified", Value: "yes"})
	create(t, mgmt, cl)
	deleteAtEnd(t, cl)
	for _, c := range managed {
		testenv.Eventually(t, c+" labelled", labelIs(t, c, "classified", "yes"))
		key := types.NamespacedName{Namespace: fleetNamespace, Name: classifier.ReportName(cl.Name, libv1beta1.SveltosClusterID(fleetNamespace, c))}
		testenv.Eventually(t, "report of "+c, func() error { return mgmt.Get(ctx, key, &libv1beta1.ClassifierReport{}) })
	}
	got := &libv1beta1.Classifier{}
	if err := mgmt.Get(ctx, clusterKeyOf(cl), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Finalizers) != 1 || got.Finalizers[0] != classifier.ClassifierFinalizer {
		t.Fatalf("finalizers %v", got.Finalizers)
	}

	if err := mgmt.Delete(ctx, cl); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "Classifier gone", func() error { return notFound(&libv1beta1.Classifier{}, clusterKeyOf(cl)) })
	for _, c := range managed {
		if err := labelIs(t, c, "classified", "")(); err != nil {
			t.Fatal(err)
		}
		sc := &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(ctx, clusterKey(c), sc); err != nil {
			t.Fatal(err)
		}
		// Other tests' classifiers may manage labels here; this one must not be listed.
		if owners := sc.Annotations[classifier.ManagedLabelsAnnotation]; strings.Contains(owners, `"Classifier/to-delete"`) {
			t.Fatalf("cluster %s still lists the deleted Classifier: %s", c, owners)
		}
	}
	if err := labelIs(t, "edge-1", "owner-team", "blue")(); err != nil {
		t.Fatal(err)
	}
	list := &libv1beta1.ClassifierReportList{}
	if err := mgmt.List(ctx, list, client.MatchingLabels{libv1beta1.ClassifierNameLabel: cl.Name}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("%d reports left", len(list.Items))
	}
}
