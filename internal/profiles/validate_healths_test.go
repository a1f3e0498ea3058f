package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// webAvailable is a health check as users write them: the Deployment's
// rollout is observed and every replica is available.
const webAvailable = `
function evaluate()
  local hs = {healthy = false}
  local want = obj.spec.replicas or 1
  local st = obj.status or {}
  if st.observedGeneration ~= obj.metadata.generation then
    hs.message = "rollout not observed yet"
  elseif (st.availableReplicas or 0) < want then
    hs.message = (st.availableReplicas or 0) .. " of " .. want .. " replicas available"
  else
    hs.healthy = true
  end
  return hs
end`

// validateHealths gate Provisioned: a deployed Deployment keeps its feature
// Provisioning (with the check's message) until it is available, and maxUpdate
// 1 moves a changed spec to the next of three clusters only once the previous
// one is healthy. The test clusters have no kubelet or Deployment controller:
// the test plays the Deployment controller by writing the Deployment's status
// (observedGeneration, availableReplicas) through the status subresource.
func TestValidateHealthsGateProvisionedAndMaxUpdate(t *testing.T) {
	ctx := context.Background()
	if _, err := env.AddCluster(ctx, "app-3"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.RemoveCluster(context.Background(), "app-3") })
	names := []string{"app-1", "app-2", "app-3"}
	for _, n := range names {
		if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "health", Name: n,
			Kubeconfig: env.Cluster(n).Kubeconfig, Labels: map[string]string{"health": "yes"}}); err != nil {
			t.Fatal(err)
		}
	}
	deployment := func(image string) string {
		return fmt.Sprintf(`{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "health"},
"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
"spec": {"containers": [{"name": "web", "image": %q}]}}}}`, image)
	}
	namespace := `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "health"}}`
	policyConfigMap(t, "health-ns", namespace)
	policyConfigMap(t, "health-v1", deployment("web:1"))
	policyConfigMap(t, "health-v2", deployment("web:2"))
	one := intstr.FromInt32(1)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "health"}, Spec: configv1beta1.Spec{
		MaxUpdate: &one,
		PolicyRefs: []libv1beta1.PolicyRef{
			{Kind: "ConfigMap", Namespace: "default", Name: "health-ns"},
			{Kind: "ConfigMap", Namespace: "default", Name: "health-v1"},
		},
		ValidateHealths: []libv1beta1.ValidateHealth{{Name: "web-available", FeatureID: libv1beta1.FeatureResources,
			Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "health", Script: webAvailable}},
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"health": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}

	summary := func(cluster string) (*configv1beta1.ClusterSummary, error) {
		s := &configv1beta1.ClusterSummary{}
		return s, mgmt.Get(ctx, types.NamespacedName{Namespace: "health", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "health", cluster)}, s)
	}
	resourcesState := func(cluster string) (libv1beta1.FeatureStatus, string, error) {
		s, err := summary(cluster)
		if err != nil {
			return "", "", err
		}
		fs := s.FeatureSummary(libv1beta1.FeatureResources)
		if fs == nil || s.Status.ObservedGeneration != s.Generation {
			return "", "", fmt.Errorf("summary of %s not reconciled yet", cluster)
		}
		msg := ""
		if fs.FailureMessage != nil {
			msg = *fs.FailureMessage
		}
		return fs.Status, msg, nil
	}
	image := func(cluster string) string {
		d := &appsv1.Deployment{}
		if err := managedClientNoT(cluster).Get(ctx, types.NamespacedName{Namespace: "health", Name: "web"}, d); err != nil {
			return ""
		}
		return d.Spec.Template.Spec.Containers[0].Image
	}
	// markAvailable plays the Deployment controller: the current generation is
	// observed and both replicas are available.
	markAvailable := func(t *testing.T, cluster string) {
		t.Helper()
		c := managedClient(t, cluster)
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, types.NamespacedName{Namespace: "health", Name: "web"}, d); err != nil {
			t.Fatal(err)
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}
		if err := c.Status().Update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("deployed but not available: Provisioning with the check's message", func(t *testing.T) {
		for _, c := range names {
			testenv.Eventually(t, c+" waits for its health check", func() error {
				st, msg, err := resourcesState(c)
				want := "validateHealths[0] web-available: Deployment health/web is not healthy: rollout not observed yet"
				if err != nil || st != libv1beta1.FeatureStatusProvisioning || msg != want {
					return fmt.Errorf("status %q, message %q (%v), want Provisioning with %q", st, msg, err, want)
				}
				return nil
			})
		}
	})
	t.Run("available: Provisioned", func(t *testing.T) {
		for _, c := range names {
			markAvailable(t, c)
		}
		for _, c := range names {
			testenv.Eventually(t, c+" Provisioned", func() error {
				if st, msg, err := resourcesState(c); err != nil || st != libv1beta1.FeatureStatusProvisioned {
					return fmt.Errorf("status %q, message %q (%v)", st, msg, err)
				}
				return nil
			})
		}
	})
	t.Run("maxUpdate 1 moves on only as each cluster becomes healthy", func(t *testing.T) {
		updateClusterProfile(t, "health", func(p *configv1beta1.ClusterProfile) { p.Spec.PolicyRefs[1].Name = "health-v2" })
		done := map[string]bool{}
		for range names {
			// Exactly one more cluster runs web:2, and it waits for its health check.
			var next string
			testenv.Eventually(t, fmt.Sprintf("cluster %d on web:2 waiting for health", len(done)+1), func() error {
				next = ""
				for _, c := range names {
					if image(c) == "web:2" && !done[c] {
						if next != "" {
							t.Fatalf("%s and %s are both updating with maxUpdate 1", next, c)
						}
						next = c
					}
				}
				if next == "" {
					return fmt.Errorf("no cluster updating yet")
				}
				if st, msg, err := resourcesState(next); err != nil || st != libv1beta1.FeatureStatusProvisioning || !strings.Contains(msg, "rollout not observed yet") {
					return fmt.Errorf("%s: status %q, message %q (%v)", next, st, msg, err)
				}
				return nil
			})
			for _, c := range names {
				if !done[c] && c != next && image(c) != "web:1" {
					t.Fatalf("%s left web:1 while %s was not healthy", c, next)
				}
			}
			markAvailable(t, next)
			done[next] = true
			testenv.Eventually(t, next+" Provisioned on web:2", func() error {
				if st, msg, err := resourcesState(next); err != nil || st != libv1beta1.FeatureStatusProvisioned {
					return fmt.Errorf("status %q, message %q (%v)", st, msg, err)
				}
				return nil
			})
		}
	})
	t.Run("a script that does not compile fails the feature naming the check", func(t *testing.T) {
		updateClusterProfile(t, "health", func(p *configv1beta1.ClusterProfile) {
			p.Spec.ValidateHealths[0].Script = "function evaluate( return"
		})
		// maxUpdate 1: the bad spec reaches one cluster, which fails and holds the
		// others back on the last good spec; nothing is withdrawn anywhere.
		testenv.Eventually(t, "one cluster Failed, the others held", func() error {
			failed := 0
			for _, c := range names {
				st, msg, err := resourcesState(c)
				switch {
				case err != nil:
					return err
				case st == libv1beta1.FeatureStatusFailed && strings.Contains(msg, "validateHealths[0] web-available: script: parsing Lua"):
					failed++
				case st != libv1beta1.FeatureStatusProvisioned:
					return fmt.Errorf("%s: status %q, message %q", c, st, msg)
				}
			}
			if failed != 1 {
				return fmt.Errorf("%d clusters failed, want 1", failed)
			}
			return nil
		})
		for _, c := range names {
			if image(c) != "web:2" {
				t.Fatalf("%s lost its Deployment", c)
			}
		}
	})
	if err := mgmt.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the summaries withdrawn", func() error {
		for _, c := range names {
			if _, err := summary(c); err == nil {
				return fmt.Errorf("summary of %s still there", c)
			}
		}
		return nil
	})
	for _, n := range names {
		if err := clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: "health", Name: n}); err != nil {
			t.Fatal(err)
		}
	}
}
