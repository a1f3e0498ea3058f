package tenancy

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/profiles"
)

// IdentityNamespace is the namespace of the tenants' identities in managed clusters.
const IdentityNamespace = "projectsveltos"

// IdentityName is the name of a tenant's ServiceAccount in a managed cluster:
// the tenant admin's service account namespace and name, joined by "--".
func IdentityName(t profiles.Tenant) string {
	return t.Namespace + "--" + t.Name
}

// serviceAccountUser is the user name the API server gives a ServiceAccount.
func serviceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// Identities gives clients that act as a tenant in a cluster, by impersonating
// the tenant's ServiceAccount over the manager's own connection (from the
// cluster registry): in a managed cluster the identity a RoleRequest creates
// (projectsveltos/<namespace>--<name>), in the management cluster the tenant
// admin's own ServiceAccount. It implements profiles.Identities.
type Identities struct {
	Registry *clusters.Registry

	mu sync.Mutex
	// clients are the impersonating clients built so far, each for one
	// connection (a new connection, after a kubeconfig change, builds anew).
	clients map[identityKey]identityClient
}

type identityKey struct {
	cluster libv1beta1.ClusterID
	user    string
}

type identityClient struct {
	conn   *clusters.Connection
	client client.Client
}

// NewIdentities returns the tenant identities reached through registry.
func NewIdentities(registry *clusters.Registry) *Identities {
	return &Identities{Registry: registry, clients: map[identityKey]identityClient{}}
}

// User is the user name a tenant acts as in a cluster.
func (i *Identities) User(cluster libv1beta1.ClusterID, t profiles.Tenant) string {
	if i.Registry.IsManagement(cluster) {
		return serviceAccountUser(t.Namespace, t.Name)
	}
	return serviceAccountUser(IdentityNamespace, IdentityName(t))
}

// RESTConfig returns a configuration for cluster that impersonates the tenant.
func (i *Identities) RESTConfig(ctx context.Context, cluster libv1beta1.ClusterID, t profiles.Tenant) (*rest.Config, error) {
	conn, err := i.Registry.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	return impersonating(conn.Config, i.User(cluster, t)), nil
}

// Client returns a client for cluster that impersonates the tenant.
func (i *Identities) Client(ctx context.Context, cluster libv1beta1.ClusterID, t profiles.Tenant) (client.Client, error) {
	conn, err := i.Registry.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	key := identityKey{cluster: cluster.Normal(), user: i.User(cluster, t)}
	i.mu.Lock()
	defer i.mu.Unlock()
	if cached, ok := i.clients[key]; ok && cached.conn == conn {
		return cached.client, nil
	}
	mapper, err := conn.RESTMapper()
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	base, err := conn.Client()
	if err != nil {
		return nil, err
	}
	c, err := client.New(impersonating(conn.Config, key.user), client.Options{Scheme: base.Scheme(), Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("creating a client of cluster %s as %s: %w", cluster, key.user, err)
	}
	i.clients[key] = identityClient{conn: conn, client: c}
	return c, nil
}

func impersonating(cfg *rest.Config, user string) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Impersonate = rest.ImpersonationConfig{UserName: user}
	return out
}
