package classifier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

func clusterKeyOf(cl *libv1beta1.Classifier) types.NamespacedName {
	return types.NamespacedName{Name: cl.Name}
}

// everyCluster is a Classifier matching every cluster (any Kubernetes version from 1.0.0).
func everyCluster(name string, labels ...libv1beta1.ClassifierLabel) *libv1beta1.Classifier {
	return &libv1beta1.Classifier{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.ClassifierSpec{
			KubernetesVersionConstraints: []libv1beta1.KubernetesVersionConstraint{{Version: "1.0.0", Comparison: libv1beta1.ComparisonGreaterThanOrEqualTo}},
			ClassifierLabels:             labels,
		},
	}
}

// unmanaged is the Classifier's unManagedLabels message for key on cluster ("" when none).
func unmanaged(cl *libv1beta1.Classifier, cluster, key string) string {
	for _, m := range cl.Status.MachingClusterStatuses {
		if m.ClusterRef.Namespace != fleetNamespace || m.ClusterRef.Name != cluster {
			continue
		}
		for _, u := range m.UnManagedLabels {
			if u.Key == key && u.FailureMessage != nil {
				return *u.FailureMessage
			}
		}
	}
	return ""
}

// TestLabelConflicts: the first Classifier to set a label key keeps it; a
// second one wanting another value reports the key in unManagedLabels, naming
// the first, with an Event, and takes the key over once the first lets go. A
// label set by a person (here the scheduler's environment label) is never
// overwritten or removed: the Classifier reports it.
func TestLabelConflicts(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	const envLabel = "scheduler.kalypso.io/environment"
	if err := clusters.SetLabels(ctx, mgmt, clusterKey("edge-2"), map[string]string{envLabel: "dev"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.SetLabels(ctx, mgmt, clusterKey("edge-2"), map[string]string{envLabel: ""}) })

	first := everyCluster("tier-first", libv1beta1.ClassifierLabel{Key: "tier", Value: "gold"})
	create(t, mgmt, first)
	deleteAtEnd(t, first)
	for _, c := range managed {
		testenv.Eventually(t, c+" labelled tier=gold", labelIs(t, c, "tier", "gold"))
	}
	second := everyCluster("tier-second", libv1beta1.ClassifierLabel{Key: "tier", Value: "silver"},
		libv1beta1.ClassifierLabel{Key: envLabel, Value: "prod"})
	create(t, mgmt, second)
	deleteAtEnd(t, second)

	classifierStatus(t, second.Name, func(cl *libv1beta1.Classifier) error {
		for _, c := range managed {
			if msg := unmanaged(cl, c, "tier"); !strings.Contains(msg, "managed by Classifier tier-first") {
				return fmt.Errorf("cluster %s: unManagedLabels for tier: %q", c, msg)
			}
		}
		if msg := unmanaged(cl, "edge-2", envLabel); !strings.Contains(msg, "was not set by a classifier") {
			return fmt.Errorf("edge-2: unManagedLabels for %s: %q", envLabel, msg)
		}
		return nil
	})
	eventFor(t, libv1beta1.ClassifierKind, second.Name, "LabelConflict", "fleet/edge-1", "managed by Classifier tier-first")
	eventFor(t, libv1beta1.ClassifierKind, second.Name, "LabelConflict", "fleet/edge-2", envLabel)
	for _, c := range managed {
		if err := labelIs(t, c, "tier", "gold")(); err != nil {
			t.Fatal(err)
		}
	}
	if err := labelIs(t, "edge-2", envLabel, "dev")(); err != nil {
		t.Fatal(err)
	}
	// edge-1 had no environment label: the second Classifier set it.
	testenv.Eventually(t, "edge-1 labelled by the second Classifier", labelIs(t, "edge-1", envLabel, "prod"))

	// The first lets go: the second takes the key over.
	if err := mgmt.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	for _, c := range managed {
		testenv.Eventually(t, c+" labelled tier=silver", labelIs(t, c, "tier", "silver"))
	}
	if err := labelIs(t, "edge-2", envLabel, "dev")(); err != nil {
		t.Fatal(err)
	}
	classifierStatus(t, second.Name, func(cl *libv1beta1.Classifier) error {
		if msg := unmanaged(cl, "edge-1", "tier"); msg != "" {
			return fmt.Errorf("edge-1 still reports tier unmanaged: %s", msg)
		}
		return nil
	})
}
