package clusters

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Shard selects the clusters one manager handles. A manager started with a shard
// key handles the clusters annotated sharding.projectsveltos.io/key=<key>; one
// started without handles the clusters that carry no such annotation.
type Shard struct {
	Key string
}

// Owns reports whether the object (a SveltosCluster) belongs to this shard.
func (s Shard) Owns(o client.Object) bool {
	return o.GetAnnotations()[libv1beta1.ShardAnnotation] == s.Key
}
