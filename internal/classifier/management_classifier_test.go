package classifier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// placement names, for each ConfigMap it receives, the cluster in the
// ConfigMap's data; a ConfigMap with data.kind set names a cluster of that kind.
const placement = `
function evaluate(resources)
  local out = {}
  for _, r in ipairs(resources) do
    table.insert(out, {namespace = r.data.namespace, name = r.data.cluster, kind = r.data.kind or "SveltosCluster"})
  end
  return out
end
`

func mccStatus(t *testing.T, name string, check func(*libv1beta1.ManagementClusterClassifier) error) {
	t.Helper()
	testenv.Eventually(t, "status of ManagementClusterClassifier "+name, func() error {
		mcc := &libv1beta1.ManagementClusterClassifier{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, mcc); err != nil {
			return err
		}
		return check(mcc)
	})
}

// TestManagementClusterClassifier: resources of the management cluster,
// watched, decide through classificationLua which clusters carry the labels;
// entries it cannot use are skipped and reported; a failing script keeps the
// labels; deleting the classifier removes them.
func TestManagementClusterClassifier(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	ensureNamespace(t, mgmt, "placement")
	mcc := &libv1beta1.ManagementClusterClassifier{
		ObjectMeta: metav1.ObjectMeta{Name: "placement"},
		Spec: libv1beta1.ManagementClusterClassifierSpec{
			MatchResources: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: "placement",
				LabelFilters: []libv1beta1.LabelFilter{{Key: "placement", Operation: libv1beta1.OperationEqual, Value: "zone-a"}}}},
			ClassificationLua: placement,
			ClassifierLabels:  []libv1beta1.ClassifierLabel{{Key: "zone", Value: "a"}},
		},
	}
	create(t, mgmt, mcc)
	deleteAtEnd(t, mcc)
	zoneA := map[string]string{"placement": "zone-a"}
	create(t, mgmt, configMap("placement", "edge-2", zoneA, map[string]string{"namespace": fleetNamespace, "cluster": "edge-2"}))
	testenv.Eventually(t, "edge-2 labelled zone=a", labelIs(t, "edge-2", "zone", "a"))
	if err := labelIs(t, "edge-1", "zone", "")(); err != nil {
		t.Fatal(err)
	}

	// Entries it cannot use are skipped and reported.
	create(t, mgmt, configMap("placement", "bad-kind", zoneA, map[string]string{"namespace": fleetNamespace, "cluster": "edge-1", "kind": "Machine"}))
	create(t, mgmt, configMap("placement", "missing", zoneA, map[string]string{"namespace": fleetNamespace, "cluster": "nowhere"}))
	mccStatus(t, mcc.Name, func(m *libv1beta1.ManagementClusterClassifier) error {
		msg := ptr.Deref(m.Status.FailureMessage, "")
		if !strings.Contains(msg, `has kind "Machine"`) || !strings.Contains(msg, "SveltosCluster fleet/nowhere, which does not exist") {
			return fmt.Errorf("failureMessage %q", msg)
		}
		return nil
	})
	eventFor(t, libv1beta1.ManagementClusterClassifierKind, mcc.Name, "ClassificationIncomplete", `has kind "Machine"`)
	if err := labelIs(t, "edge-1", "zone", "")(); err != nil {
		t.Fatal(err)
	}

	// A second cluster named: labelled; its ConfigMap gone: unlabelled.
	create(t, mgmt, configMap("placement", "edge-1", zoneA, map[string]string{"namespace": fleetNamespace, "cluster": "edge-1"}))
	testenv.Eventually(t, "edge-1 labelled zone=a", labelIs(t, "edge-1", "zone", "a"))
	if err := mgmt.Delete(ctx, configMap("placement", "edge-1", nil, nil)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "edge-1 unlabelled", labelIs(t, "edge-1", "zone", ""))

	// A failing script: reported, labels kept.
	testenv.Eventually(t, "classificationLua updated", func() error {
		got := &libv1beta1.ManagementClusterClassifier{}
		if err := mgmt.Get(ctx, types.NamespacedName{Name: mcc.Name}, got); err != nil {
			return err
		}
		got.Spec.ClassificationLua = `function evaluate(resources) return "not a list" end`
		return mgmt.Update(ctx, got)
	})
	mccStatus(t, mcc.Name, func(m *libv1beta1.ManagementClusterClassifier) error {
		if msg := ptr.Deref(m.Status.FailureMessage, ""); !strings.Contains(msg, "want an array of tables") {
			return fmt.Errorf("failureMessage %q", msg)
		}
		return nil
	})
	eventFor(t, libv1beta1.ManagementClusterClassifierKind, mcc.Name, "ClassificationFailed", "classificationLua", "want an array of tables")
	if err := labelIs(t, "edge-2", "zone", "a")(); err != nil {
		t.Fatal(err)
	}

	// Deleted: its labels go with it.
	if err := mgmt.Delete(ctx, mcc); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "edge-2 unlabelled once the classifier is deleted", labelIs(t, "edge-2", "zone", ""))
	testenv.Eventually(t, "ManagementClusterClassifier gone", func() error {
		return notFound(&libv1beta1.ManagementClusterClassifier{}, types.NamespacedName{Name: mcc.Name})
	})
}
