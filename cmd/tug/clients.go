package main

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// managementCluster is the SveltosCluster that stands for the management cluster
// (the manager's default): it has no kubeconfig Secret and is reached with the
// CLI's own management-cluster credentials.
var managementCluster = types.NamespacedName{Namespace: "mgmt", Name: "mgmt"}

// clusterClients builds (once per command run) clients of managed clusters from
// their kubeconfig Secrets.
type clusterClients struct {
	g       *globalOptions
	mgmt    client.Client
	clients map[libv1beta1.ClusterID]client.Client
}

func newClusterClients(g *globalOptions, mgmt client.Client) *clusterClients {
	return &clusterClients{g: g, mgmt: mgmt, clients: map[libv1beta1.ClusterID]client.Client{}}
}

func (cc *clusterClients) get(ctx context.Context, cluster libv1beta1.ClusterID) (client.Client, error) {
	cluster = cluster.Normal()
	if c, ok := cc.clients[cluster]; ok {
		return c, nil
	}
	cfg, err := clusters.RESTConfigFor(ctx, cc.mgmt, cluster)
	if err != nil && cluster.Key() == managementCluster && !cluster.IsCAPI() && clusters.IsConfigError(err) {
		cfg, err = cc.g.restConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cluster, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s (%s): %w", cluster, cfg.Host, err)
	}
	cc.clients[cluster] = c
	return c, nil
}

// profileFilter is the --profile flag: kind/name, or Profile/namespace/name.
type profileFilter struct {
	set                   bool
	kind, namespace, name string
}

func parseProfileFilter(s string) (profileFilter, error) {
	if s == "" {
		return profileFilter{}, nil
	}
	parts := strings.Split(s, "/")
	bad := usageError{fmt.Errorf("--profile %q: use ClusterProfile/NAME, Profile/NAME or Profile/NAMESPACE/NAME", s)}
	switch {
	case len(parts) == 2 && parts[1] != "" && (parts[0] == configv1beta1.ClusterProfileKind || parts[0] == configv1beta1.ProfileKind):
		return profileFilter{set: true, kind: parts[0], name: parts[1]}, nil
	case len(parts) == 3 && parts[0] == configv1beta1.ProfileKind && parts[1] != "" && parts[2] != "":
		return profileFilter{set: true, kind: parts[0], namespace: parts[1], name: parts[2]}, nil
	}
	return profileFilter{}, bad
}

func (f profileFilter) matches(p configv1beta1.ProfileRef) bool {
	if !f.set {
		return true
	}
	return f.kind == p.Kind && f.name == p.Name && (f.namespace == "" || f.namespace == p.Namespace)
}

// resourceType is <group>:<Kind>, with an empty group for the core API.
func resourceType(gvk schema.GroupVersionKind) string {
	return gvk.Group + ":" + gvk.Kind
}

// clusterName is namespace/name.
func clusterName(namespace, name string) string { return namespace + "/" + name }
