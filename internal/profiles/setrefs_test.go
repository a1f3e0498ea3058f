package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A ClusterSet selects at most maxReplicas healthy clusters; a profile with
// setRefs deploys to the selected one, and follows the failover when it goes Down.
func TestSetRefsFollowFailover(t *testing.T) {
	ctx := context.Background()
	set := &libv1beta1.ClusterSet{ObjectMeta: metav1.ObjectMeta{Name: "one-of-two"}}
	set.Spec.ClusterSelector.MatchLabels = map[string]string{"set": "yes"}
	set.Spec.MaxReplicas = 1
	if err := mgmt.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	policyConfigMap(t, "set-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "via-set", "namespace": "sets"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "via-set"}}
	p.Spec.SetRefs = []string{"one-of-two"}
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "set-cm"}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"set": "yes"})
	setLabels(t, "app-2", map[string]string{"set": "yes"})

	selected := func(matching int) (string, error) {
		s := &libv1beta1.ClusterSet{}
		if err := mgmt.Get(ctx, types.NamespacedName{Name: "one-of-two"}, s); err != nil {
			return "", err
		}
		if len(s.Status.MatchingClusterRefs) != matching || len(s.Status.SelectedClusterRefs) != 1 {
			return "", fmt.Errorf("matching %v selected %v", s.Status.MatchingClusterRefs, s.Status.SelectedClusterRefs)
		}
		return s.Status.SelectedClusterRefs[0].Name, nil
	}
	var first string
	testenv.Eventually(t, "one cluster selected", func() (err error) { first, err = selected(2); return err })
	other := map[string]string{"app-1": "app-2", "app-2": "app-1"}[first]
	deployedTo := func(cluster string) func() error {
		return func() error {
			return managedClient(t, cluster).Get(ctx, types.NamespacedName{Namespace: "sets", Name: "via-set"}, &corev1.ConfigMap{})
		}
	}
	testenv.Eventually(t, "deployed to the selected cluster", deployedTo(first))
	if err := deployedTo(other)(); err == nil {
		t.Fatalf("also deployed to %s, which the set did not select", other)
	}

	// The selected cluster goes Down (its kubeconfig breaks): the set fails over.
	breakKubeconfig(t, first)
	defer restoreKubeconfig(t, first)
	testenv.Eventually(t, "failover", func() error {
		name, err := selected(1) // the Down cluster no longer matches
		if err != nil {
			return err
		}
		if name != other {
			return fmt.Errorf("still %s", name)
		}
		return nil
	})
	testenv.Eventually(t, "deployed to the new selection", deployedTo(other))
}

func breakKubeconfig(t *testing.T, cluster string) {
	t.Helper()
	writeKubeconfig(t, cluster, []byte("broken"))
}

func restoreKubeconfig(t *testing.T, cluster string) {
	t.Helper()
	writeKubeconfig(t, cluster, env.Cluster(cluster).Kubeconfig)
}

func writeKubeconfig(t *testing.T, cluster string, data []byte) {
	t.Helper()
	s := &corev1.Secret{}
	key := types.NamespacedName{Namespace: "fleet", Name: cluster + libv1beta1.KubeconfigSecretSuffix}
	if err := mgmt.Get(context.Background(), key, s); err != nil {
		t.Fatal(err)
	}
	s.Data = map[string][]byte{libv1beta1.KubeconfigSecretKey: data}
	if err := mgmt.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}
