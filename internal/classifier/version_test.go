package classifier_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// TestKubernetesVersionConstraints: clusters are labelled by their Kubernetes
// version (the probe's status.version, compared as major.minor.patch); a
// cluster meeting every constraint is labelled, the others are not, and a
// constraint change that stops matching takes the label off.
func TestKubernetesVersionConstraints(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(ctx, clusterKey("edge-1"), sc); err != nil {
		t.Fatal(err)
	}
	current := sc.Status.Version // e.g. v1.36.3
	between := &libv1beta1.Classifier{
		ObjectMeta: metav1.ObjectMeta{Name: "version-between"},
		Spec: libv1beta1.ClassifierSpec{
			KubernetesVersionConstraints: []libv1beta1.KubernetesVersionConstraint{
				{Version: "1.20.0", Comparison: libv1beta1.ComparisonGreaterThanOrEqualTo},
				{Version: current, Comparison: libv1beta1.ComparisonLessThanOrEqualTo},
				{Version: "v" + "99.0.0", Comparison: libv1beta1.ComparisonNotEqual},
			},
			ClassifierLabels: []libv1beta1.ClassifierLabel{{Key: "k8s-supported", Value: "yes"}},
		},
	}
	old := &libv1beta1.Classifier{
		ObjectMeta: metav1.ObjectMeta{Name: "version-old"},
		Spec: libv1beta1.ClassifierSpec{
			KubernetesVersionConstraints: []libv1beta1.KubernetesVersionConstraint{{Version: "1.20.0", Comparison: libv1beta1.ComparisonLessThan}},
			ClassifierLabels:             []libv1beta1.ClassifierLabel{{Key: "k8s-old", Value: "yes"}},
		},
	}
	for _, cl := range []*libv1beta1.Classifier{between, old} {
		create(t, mgmt, cl)
		deleteAtEnd(t, cl)
	}
	for _, c := range managed {
		testenv.Eventually(t, c+" labelled k8s-supported=yes", labelIs(t, c, "k8s-supported", "yes"))
	}
	classifierStatus(t, "version-between", func(cl *libv1beta1.Classifier) error {
		// The management cluster is a cluster too.
		if got := matching(cl); !slices.Contains(got, "edge-1") || !slices.Contains(got, "edge-2") {
			return fmt.Errorf("matching %v", got)
		}
		return nil
	})
	classifierStatus(t, "version-old", func(cl *libv1beta1.Classifier) error {
		if _, ok := clusterInfo(cl, "edge-1"); !ok {
			return fmt.Errorf("edge-1 not evaluated yet")
		}
		if got := matching(cl); len(got) != 0 {
			return fmt.Errorf("matching %v, want none", got)
		}
		return nil
	})
	for _, c := range managed {
		if err := labelIs(t, c, "k8s-old", "")(); err != nil {
			t.Fatal(err)
		}
	}

	// Tightened past the clusters' version: the label goes.
	testenv.Eventually(t, "constraint updated", func() error {
		if err := mgmt.Get(ctx, clusterKeyOf(between), between); err != nil {
			return err
		}
		between.Spec.KubernetesVersionConstraints[1] = libv1beta1.KubernetesVersionConstraint{Version: "1.20.0", Comparison: libv1beta1.ComparisonEqual}
		return mgmt.Update(ctx, between)
	})
	for _, c := range managed {
		testenv.Eventually(t, c+" unlabelled", labelIs(t, c, "k8s-supported", ""))
	}
}
