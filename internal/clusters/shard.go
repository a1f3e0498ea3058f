package clusters

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ShardLabel carries, on the objects Tugboat writes for one cluster
// (ClusterSummaries), the shard key of that cluster: a manager started with a
// shard key caches only the objects labelled with its key, so that its memory
// and watch traffic follow its own clusters, not the whole fleet.
const ShardLabel = "tugboat.dev/shard"

// Shard selects the clusters one manager handles. A manager started with a shard
// key handles the clusters annotated sharding.projectsveltos.io/key=<key>; one
// started without handles the clusters that carry no such annotation.
//
// The manager without a shard key also selects: it alone runs the controllers
// that look at the whole fleet (profiles and their ClusterSummaries, cluster
// sets, promotions), and the shard managers deploy the summaries of their
// clusters.
type Shard struct {
	Key string
}

// Owns reports whether the object (a SveltosCluster) belongs to this shard.
func (s Shard) Owns(o client.Object) bool {
	return KeyOf(o) == s.Key
}

// Selects reports whether this manager runs the fleet-wide controllers: it is
// the manager without a shard key.
func (s Shard) Selects() bool { return s.Key == "" }

// KeyOf is the shard key of a cluster (empty: unsharded).
func KeyOf(o client.Object) string {
	return o.GetAnnotations()[libv1beta1.ShardAnnotation]
}
