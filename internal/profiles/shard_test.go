package profiles_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A cluster annotated with a shard key belongs to the manager started with that
// key: this (unsharded) manager does not deploy there, until the annotation goes.
func TestShardedClusterIsLeftToItsManager(t *testing.T) {
	ctx := context.Background()
	annotate := func(value string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			sc := &libv1beta1.SveltosCluster{}
			if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: "app-2"}, sc); err != nil {
				return err
			}
			if value == "" {
				delete(sc.Annotations, libv1beta1.ShardAnnotation)
			} else {
				if sc.Annotations == nil {
					sc.Annotations = map[string]string{}
				}
				sc.Annotations[libv1beta1.ShardAnnotation] = value
			}
			return mgmt.Update(ctx, sc)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The cluster must have been probed ready by this manager before it leaves its shard.
	testenv.Eventually(t, "app-2 ready", func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: "app-2"}, sc); err != nil {
			return err
		}
		if !sc.Status.Ready {
			return fmt.Errorf("not ready yet")
		}
		return nil
	})
	annotate("elsewhere")
	defer annotate("")
	policyConfigMap(t, "shard-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sharded", "namespace": "shards"}}`)
	clusterProfile(t, "sharded", "shard-test", "yes", 100, "", "shard-cm")
	setLabels(t, "app-2", map[string]string{"shard-test": "yes"})
	waitSummary(t, "sharded", "app-2", func(*configv1beta1.ClusterSummary) error { return nil })
	time.Sleep(2 * time.Second) // a chance to (wrongly) deploy
	if err := configMapIn("app-2", "shards", "sharded")(); err == nil {
		t.Fatal("deployed to a cluster of another shard")
	}
	annotate("")
	// Removing the annotation changes no label or readiness: nudge the summary as the
	// other shard's manager would have, by touching the profile.
	updateClusterProfile(t, "sharded", func(p *configv1beta1.ClusterProfile) { p.Spec.ExtraLabels = map[string]string{"shard": "none"} })
	testenv.Eventually(t, "deployed once unsharded", configMapIn("app-2", "shards", "sharded"))
}
