package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A profile's Ready condition follows its clusters: True once every matching
// cluster is provisioned, False naming the failed clusters and why, and an
// invalid selector stalls it (InvalidSpec) while the last good state stays.
func TestProfileReadyFollowsClusters(t *testing.T) {
	good := `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ready", "namespace": "profile-ready"}, "data": {"a": "b"}}`
	policyConfigMap(t, "profile-ready-cm", good)
	clusterProfile(t, "profile-ready", "profile-ready", "yes", 100, "", "profile-ready-cm")
	for _, c := range managed {
		setLabels(t, c, map[string]string{"profile-ready": "yes"})
	}

	t.Run("every cluster provisioned", func(t *testing.T) {
		waitCondition(t, "profile-ready", conditions.Ready, metav1.ConditionTrue, conditions.Succeeded, "2 of 2 clusters provisioned")
	})
	t.Run("failed clusters named", func(t *testing.T) {
		setPolicy(t, "profile-ready-cm", nil, "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed")
		waitCondition(t, "profile-ready", conditions.Ready, metav1.ConditionFalse, conditions.Failed,
			"2 of 2 clusters failed", "fleet/app-1: Resources: ", "fleet/app-2: Resources: ", "document 1")
	})
	t.Run("fixed", func(t *testing.T) {
		setPolicy(t, "profile-ready-cm", nil, good)
		waitCondition(t, "profile-ready", conditions.Ready, metav1.ConditionTrue, conditions.Succeeded, "2 of 2 clusters provisioned")
	})
	t.Run("invalid selector stalls", func(t *testing.T) {
		updateClusterProfile(t, "profile-ready", func(p *configv1beta1.ClusterProfile) {
			p.Spec.ClusterSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "profile-ready", Operator: metav1.LabelSelectorOpIn}}
		})
		waitCondition(t, "profile-ready", conditions.Stalled, metav1.ConditionTrue, conditions.InvalidSpec, "values")
		waitCondition(t, "profile-ready", conditions.Ready, metav1.ConditionFalse, conditions.InvalidSpec, "values")
		testenv.Eventually(t, "deployed object kept", configMapIn("app-1", "profile-ready", "ready"))
	})
}

// waitCondition waits until a ClusterProfile's condition has the status and
// reason, and its message contains every part.
func waitCondition(t *testing.T, profile, conditionType string, status metav1.ConditionStatus, reason string, parts ...string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("ClusterProfile %s %s=%s (%s)", profile, conditionType, status, reason), func() error {
		p := &configv1beta1.ClusterProfile{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: profile}, p); err != nil {
			return err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, conditionType)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != p.Generation {
			return fmt.Errorf("condition %s is %+v", conditionType, c)
		}
		for _, part := range parts {
			if !strings.Contains(c.Message, part) {
				return fmt.Errorf("message %q lacks %q", c.Message, part)
			}
		}
		return nil
	})
}
