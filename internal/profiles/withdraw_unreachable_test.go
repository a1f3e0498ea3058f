package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Deleting a profile while its cluster is unreachable: the ClusterSummary says
// in status why it cannot withdraw yet (not only the log), keeps trying, and
// withdraws as soon as the cluster is back — within the withdraw grace period.
func TestWithdrawWaitsForUnreachableCluster(t *testing.T) {
	ctx := context.Background()
	const name = "withdraw-1"
	if _, err := env.AddCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.RemoveCluster(context.Background(), name) })
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "withdraw", Name: name,
		Kubeconfig: env.Cluster(name).Kubeconfig, Labels: map[string]string{"withdraw": "yes"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clusters.Deregister(context.Background(), mgmt, types.NamespacedName{Namespace: "withdraw", Name: name})
	})
	policyConfigMap(t, "withdraw-me", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "withdraw-me", "namespace": "default"}, "data": {"a": "b"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "withdraw"}, Spec: configv1beta1.Spec{
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "withdraw-me"}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"withdraw": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	summaryKey := types.NamespacedName{Namespace: "withdraw", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "withdraw", name)}
	testenv.Eventually(t, "deployed", func() error {
		s := &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(ctx, summaryKey, s); err != nil {
			return err
		}
		return featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned)
	})

	if err := env.StopCluster(name); err != nil {
		t.Fatal(err)
	}
	if err := mgmt.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the summary says why it cannot withdraw", func() error {
		s := &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(ctx, summaryKey, s); err != nil {
			return err
		}
		if s.Status.FailureMessage == nil || !strings.Contains(*s.Status.FailureMessage, "withdrawing from cluster withdraw/"+name) ||
			!strings.Contains(*s.Status.FailureMessage, "retrying") {
			return fmt.Errorf("failureMessage %v", s.Status.FailureMessage)
		}
		return nil
	})

	if err := env.RestartCluster(ctx, name); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "withdrawn once the cluster is back, and the summary gone", func() error {
		if err := notFound(mgmt, &configv1beta1.ClusterSummary{}, summaryKey); err != nil {
			return err
		}
		c, err := newManagedClient(name)
		if err != nil {
			return err
		}
		return notFound(c, &corev1.ConfigMap{}, types.NamespacedName{Namespace: "default", Name: "withdraw-me"})
	})
}
