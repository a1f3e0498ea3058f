package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The management cluster (mgmt/mgmt) as a destination: what a profile deploys
// there stays through later deploys (the Local pass must not clean up the
// Remote one when both are the same cluster).
func TestManagementClusterAsDestination(t *testing.T) {
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "mgmt", Name: "mgmt"}, sc); err != nil {
			return err
		}
		if sc.Labels == nil {
			sc.Labels = map[string]string{}
		}
		sc.Labels["self"] = "yes"
		return mgmt.Update(ctx, sc)
	})
	if err != nil {
		t.Fatal(err)
	}
	content := func(v string) string {
		return fmt.Sprintf(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "on-mgmt", "namespace": "self"}, "data": {"v": %q}}`, v)
	}
	policyConfigMap(t, "self-cm", content("1"))
	clusterProfile(t, "self", "self", "yes", 100, "", "self-cm")
	has := func(want string) func() error {
		return func() error {
			cm := &corev1.ConfigMap{}
			if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "self", Name: "on-mgmt"}, cm); err != nil {
				return err
			}
			if cm.Data["v"] != want {
				return fmt.Errorf("v=%q", cm.Data["v"])
			}
			return nil
		}
	}
	testenv.Eventually(t, "deployed to the management cluster", has("1"))
	setPolicy(t, "self-cm", nil, content("2"))
	testenv.Eventually(t, "updated in the management cluster", has("2"))
	// The status is written after the objects are applied: wait for it.
	testenv.Eventually(t, "the management cluster's summary Provisioned", func() error {
		s := &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "mgmt", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "self", "mgmt")}, s); err != nil {
			return err
		}
		return featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned)
	})
	if err := has("2")(); err != nil {
		t.Fatalf("object gone after the second deploy: %v", err)
	}
}
