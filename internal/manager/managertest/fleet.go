package managertest

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// RegisterFleet registers each named test cluster of env as a SveltosCluster of
// the same name in namespace, through mgmt, labelled with labels(name) (no
// labels when labels is nil).
func RegisterFleet(ctx context.Context, mgmt client.Client, env *testenv.Env, namespace string, names []string, labels func(name string) map[string]string) error {
	for _, name := range names {
		reg := clusters.Registration{Namespace: namespace, Name: name, Kubeconfig: env.Cluster(name).Kubeconfig}
		if labels != nil {
			reg.Labels = labels(name)
		}
		if _, err := clusters.Register(ctx, mgmt, reg); err != nil {
			return err
		}
	}
	return nil
}
