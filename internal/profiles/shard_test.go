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
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A cluster annotated with a shard key belongs to the manager started with that
// key: this (unsharded) manager writes its summary, labelled with the shard, but
// does not deploy there, until the annotation goes.
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
	// This manager writes the summary of every cluster, labelled with its shard.
	waitSummary(t, "sharded", "app-2", func(s *configv1beta1.ClusterSummary) error {
		if k := s.Labels[clusters.ShardLabel]; k != "elsewhere" {
			return fmt.Errorf("summary labelled %s=%q, want elsewhere", clusters.ShardLabel, k)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // a chance to (wrongly) deploy
	if err := configMapIn("app-2", "shards", "sharded")(); err == nil {
		t.Fatal("deployed to a cluster of another shard")
	}
	annotate("")
	// The summary's shard label follows the annotation: that change alone hands
	// the summary over to this manager.
	testenv.Eventually(t, "deployed once unsharded", configMapIn("app-2", "shards", "sharded"))
	waitSummary(t, "sharded", "app-2", func(s *configv1beta1.ClusterSummary) error {
		if k, ok := s.Labels[clusters.ShardLabel]; ok {
			return fmt.Errorf("summary still labelled %s=%s", clusters.ShardLabel, k)
		}
		return nil
	})
}
