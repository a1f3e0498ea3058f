package testenv

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
)

// ClusterClient is a direct client (no cache) of the test cluster name of env,
// with Tugboat's and Kubernetes' types; it fails the test when it cannot be
// made.
func ClusterClient(t testing.TB, env *Env, name string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(name).Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
