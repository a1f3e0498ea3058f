package classifier_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// countReplicas matches when the ConfigMaps selected hold at least two replicas in total.
const countReplicas = `
function evaluate()
  local total = 0
  for _, r in ipairs(resources) do
    total = total + tonumber(r.data.replicas)
  end
  return {matching = total >= 2, message = "replicas: " .. total}
end
`

// TestAggregatedClassificationAndLuaErrors: aggregatedClassification decides
// over every selected resource (CEL filters them first); a script that fails
// at run time or does not parse is reported in clusterInfo and in an Event,
// and the cluster keeps its labels as last classified.
func TestAggregatedClassificationAndLuaErrors(t *testing.T) {
	waitReady(t)
	cl := &libv1beta1.Classifier{
		ObjectMeta: metav1.ObjectMeta{Name: "replicas"},
		Spec: libv1beta1.ClassifierSpec{
			DeployedResourceConstraint: &libv1beta1.DeployedResourceConstraint{
				ResourceSelectors: []libv1beta1.ResourceSelector{{
					Version: "v1", Kind: "ConfigMap", Namespace: "apps",
					LabelFilters: []libv1beta1.LabelFilter{{Key: "classify", Operation: libv1beta1.OperationEqual, Value: "replicas"}},
					EvaluateCEL:  []libv1beta1.CELRule{{Name: "has-replicas", Rule: "has(resource.data) && has(resource.data.replicas)"}},
				}},
				AggregatedClassification: countReplicas,
			},
			ClassifierLabels: []libv1beta1.ClassifierLabel{{Key: "replicated", Value: "true"}},
		},
	}
	create(t, mgmt, cl)
	deleteAtEnd(t, cl)

	edge2 := managedClient(t, "edge-2")
	ensureNamespace(t, edge2, "apps")
	labels := map[string]string{"classify": "replicas"}
	create(t, edge2, configMap("apps", "a", labels, map[string]string{"replicas": "1"}))
	create(t, edge2, configMap("apps", "no-replicas", labels, map[string]string{"other": "5"}))
	classifierStatus(t, cl.Name, func(cl *libv1beta1.Classifier) error {
		if i, ok := clusterInfo(cl, "edge-2"); !ok || i.Status != libv1beta1.FeatureStatusProvisioned {
			return fmt.Errorf("edge-2 not evaluated yet")
		}
		return nil
	})
	if err := labelIs(t, "edge-2", "replicated", "")(); err != nil {
		t.Fatal(err) // one replica only; the ConfigMap without replicas is filtered out by CEL
	}
	create(t, edge2, configMap("apps", "b", labels, map[string]string{"replicas": "1"}))
	testenv.Eventually(t, "edge-2 labelled replicated=true", labelIs(t, "edge-2", "replicated", "true"))

	// A run-time failure: reported, labels kept.
	setAggregated(t, cl.Name, `function evaluate() error("no replicas field today") end`)
	got := classifierStatus(t, cl.Name, func(cl *libv1beta1.Classifier) error {
		i, ok := clusterInfo(cl, "edge-2")
		if !ok || i.Status != libv1beta1.FeatureStatusFailed || i.FailureMessage == nil ||
			!strings.Contains(*i.FailureMessage, "aggregatedClassification") || !strings.Contains(*i.FailureMessage, "no replicas field today") {
			return fmt.Errorf("edge-2 info %+v", i)
		}
		return nil
	})
	if m := matching(got); !slices.Contains(m, "edge-2") {
		t.Fatalf("edge-2 left the matching clusters on a failure: %v", m)
	}
	eventFor(t, libv1beta1.ClassifierKind, cl.Name, "ClassificationFailed", "fleet/edge-2", "no replicas field today")
	if err := labelIs(t, "edge-2", "replicated", "true")(); err != nil {
		t.Fatal(err)
	}

	// A script that does not parse: reported for every cluster, labels kept.
	setAggregated(t, cl.Name, `function evaluate( return end`)
	classifierStatus(t, cl.Name, func(cl *libv1beta1.Classifier) error {
		for _, c := range managed {
			i, ok := clusterInfo(cl, c)
			if !ok || i.FailureMessage == nil || !strings.Contains(*i.FailureMessage, "parsing Lua") {
				return fmt.Errorf("cluster %s info %+v", c, i)
			}
		}
		return nil
	})
	eventFor(t, libv1beta1.ClassifierKind, cl.Name, "InvalidSpec", "aggregatedClassification", "parsing Lua")
	if err := labelIs(t, "edge-2", "replicated", "true")(); err != nil {
		t.Fatal(err)
	}

	// Fixed: classified again (now not matching), label removed.
	setAggregated(t, cl.Name, `function evaluate() return {matching = false, message = "never"} end`)
	testenv.Eventually(t, "label removed once the script works again", labelIs(t, "edge-2", "replicated", ""))
	classifierStatus(t, cl.Name, func(cl *libv1beta1.Classifier) error {
		if i, ok := clusterInfo(cl, "edge-2"); !ok || i.Status != libv1beta1.FeatureStatusProvisioned || i.FailureMessage != nil {
			return fmt.Errorf("edge-2 info %+v", i)
		}
		return nil
	})
}

func setAggregated(t *testing.T, name, script string) {
	t.Helper()
	testenv.Eventually(t, "aggregatedClassification updated", func() error {
		cl := &libv1beta1.Classifier{}
		if err := mgmt.Get(context.Background(), clusterKeyOf(&libv1beta1.Classifier{ObjectMeta: metav1.ObjectMeta{Name: name}}), cl); err != nil {
			return err
		}
		cl.Spec.DeployedResourceConstraint.AggregatedClassification = script
		return mgmt.Update(context.Background(), cl)
	})
}
