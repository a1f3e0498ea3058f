package manager_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// startManager runs a manager (no leader election) with the shard key until the
// test ends or stop is called.
func startManager(t *testing.T, shardKey string) (mgr *manager.Manager, stop func()) {
	t.Helper()
	opts := manager.DefaultOptions()
	opts.LeaderElection = false
	opts.ShardKey = shardKey
	r := runManager(t, "of shard "+shardKey, opts)
	var once sync.Once
	return r.mgr, func() {
		once.Do(func() {
			r.cancel()
			err := <-r.stopped
			r.stopped <- err // for the cleanup
		})
	}
}

// The manager without a shard key selects for the whole fleet: it writes the
// ClusterSummary of a sharded cluster, labelled with the cluster's shard, and
// the profile's status; the shard's manager, which caches only the summaries of
// its shard, deploys it (and only it: with the shard's manager stopped, a change
// reaches the unsharded cluster only). Moving the cluster out of the shard
// moves its summary (the label follows the annotation) and the unsharded
// manager takes over.
func TestShardManagersDeployTheirClusters(t *testing.T) {
	ctx := context.Background()
	mgmt, err := client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	// One API server registered twice: "east" in shard east, "plain" unsharded.
	for name, shard := range map[string]string{"east": "east", "plain": ""} {
		if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "shards", Name: name,
			Kubeconfig: env.Cluster("workload").Kubeconfig, Labels: map[string]string{"shard-test": "yes"}, ShardKey: shard}); err != nil {
			t.Fatal(err)
		}
	}
	if err := mgmt.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "shard-policy",
		Annotations: map[string]string{"projectsveltos.io/template": "ok"}},
		Data: map[string]string{"object.yaml": shardPolicy("1")}}); err != nil {
		t.Fatal(err)
	}
	workload, err := client.New(env.Cluster("workload").Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	// deployed checks the cluster's ConfigMap, at the version when one is given.
	deployed := func(cluster, version string) func() error {
		return func() error {
			cm := &corev1.ConfigMap{}
			if err := workload.Get(ctx, types.NamespacedName{Namespace: "default", Name: "deployed-to-" + cluster}, cm); err != nil {
				return err
			}
			if version != "" && cm.Data["version"] != version {
				return fmt.Errorf("ConfigMap deployed-to-%s at version %q, want %q", cluster, cm.Data["version"], version)
			}
			return nil
		}
	}

	startManager(t, "")
	east, stopEast := startManager(t, "east")
	profile := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "sharded"}}
	profile.Spec.ClusterSelector.MatchLabels = map[string]string{"shard-test": "yes"}
	profile.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "shard-policy"}}
	if err := mgmt.Create(ctx, profile); err != nil {
		t.Fatal(err)
	}
	summaryLabel := func(cluster, want string) func() error {
		return func() error {
			list := &configv1beta1.ClusterSummaryList{}
			if err := mgmt.List(ctx, list, client.InNamespace("shards"), client.MatchingLabels{configv1beta1.ClusterNameLabel: cluster}); err != nil {
				return err
			}
			if len(list.Items) != 1 {
				return fmt.Errorf("%d summaries of cluster %s", len(list.Items), cluster)
			}
			if got, ok := list.Items[0].Labels[clusters.ShardLabel]; got != want || ok != (want != "") {
				return fmt.Errorf("summary %s labelled %s=%q, want %q", list.Items[0].Name, clusters.ShardLabel, got, want)
			}
			return nil
		}
	}
	testenv.Eventually(t, "the summary of east labelled with its shard", summaryLabel("east", "east"))
	testenv.Eventually(t, "the summary of plain not labelled", summaryLabel("plain", ""))
	testenv.Eventually(t, "deployed to plain", deployed("plain", ""))
	testenv.Eventually(t, "deployed to east", deployed("east", ""))
	testenv.Eventually(t, "the profile's status written", func() error {
		p := &configv1beta1.ClusterProfile{}
		if err := mgmt.Get(ctx, types.NamespacedName{Name: "sharded"}, p); err != nil {
			return err
		}
		if n := len(p.Status.MatchingClusterRefs); n != 2 {
			return fmt.Errorf("%d matching clusters, want 2", n)
		}
		return nil
	})
	// The shard manager's cache holds the summaries of its shard only.
	cached := &configv1beta1.ClusterSummaryList{}
	if err := east.GetClient().List(ctx, cached, client.InNamespace("shards")); err != nil {
		t.Fatal(err)
	}
	if len(cached.Items) != 1 || cached.Items[0].Spec.ClusterName != "east" {
		names := []string{}
		for _, s := range cached.Items {
			names = append(names, s.Name)
		}
		t.Fatalf("the manager of shard east caches summaries %v, want only the summary of east", names)
	}

	// With the shard's manager stopped, a change of content reaches plain only.
	stopEast()
	setPolicyVersion(t, mgmt, "2")
	testenv.Eventually(t, "version 2 deployed to plain", deployed("plain", "2"))
	if err := deployed("east", "2")(); err == nil {
		t.Fatal("the unsharded manager deployed to a cluster of shard east")
	}
	_, _ = startManager(t, "east")
	testenv.Eventually(t, "version 2 deployed to east by its shard's manager, back", deployed("east", "2"))

	// Out of the shard: the label goes, and the unsharded manager owns the summary.
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "shards", Name: "east"}, sc); err != nil {
		t.Fatal(err)
	}
	setShard(t, mgmt, sc, "")
	testenv.Eventually(t, "the summary of east no longer labelled", summaryLabel("east", ""))

	// Withdrawal: the unsharded manager withdraws from both.
	if err := mgmt.Delete(ctx, profile); err != nil {
		t.Fatal(err)
	}
	for _, cluster := range []string{"east", "plain"} {
		testenv.Eventually(t, "withdrawn from "+cluster, func() error {
			if err := deployed(cluster, "")(); err == nil {
				return fmt.Errorf("still deployed to %s", cluster)
			}
			return nil
		})
	}
}

// setShard sets (or with "" removes) the shard annotation of a SveltosCluster.
func setShard(t *testing.T, c client.Client, sc *libv1beta1.SveltosCluster, key string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(sc), sc); err != nil {
			return err
		}
		if key == "" {
			delete(sc.Annotations, libv1beta1.ShardAnnotation)
		} else {
			if sc.Annotations == nil {
				sc.Annotations = map[string]string{}
			}
			sc.Annotations[libv1beta1.ShardAnnotation] = key
		}
		return c.Update(context.Background(), sc)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// shardPolicy is the object the test's profile deploys, one per cluster, at a version.
func shardPolicy(version string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deployed-to-{{ .Cluster.metadata.name }}\n" +
		"  namespace: default\ndata:\n  version: \"" + version + "\"\n"
}

// setPolicyVersion changes the version the test's profile deploys.
func setPolicyVersion(t *testing.T, c client.Client, version string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "shard-policy"}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{"object.yaml": shardPolicy(version)}
	if err := c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
}
