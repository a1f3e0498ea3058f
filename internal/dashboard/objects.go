package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// ClusterReaders give a reader of a managed cluster: a cluster's page lists
// the objects each profile deployed there, read from the cluster itself.
type ClusterReaders interface {
	ClusterReader(ctx context.Context, cluster libv1beta1.ClusterID) (client.Reader, error)
}

// RegistryReaders reads managed clusters through the manager's connections.
type RegistryReaders struct{ Registry *clusters.Registry }

// ClusterReader is the client of the manager's connection to the cluster.
func (r RegistryReaders) ClusterReader(ctx context.Context, cluster libv1beta1.ClusterID) (client.Reader, error) {
	conn, err := r.Registry.Get(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return conn.Client()
}

// kubeconfigReaders reads managed clusters with the kubeconfig Secrets the
// user may read (`tug dashboard`): the Secret's data is used to connect,
// and shown nowhere.
type kubeconfigReaders struct{ mgmt client.Reader }

func (k kubeconfigReaders) ClusterReader(ctx context.Context, cluster libv1beta1.ClusterID) (client.Reader, error) {
	cfg, err := clusters.RESTConfigFor(ctx, k.mgmt, cluster)
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: api.NewScheme()})
}

// ObjectRow is an object a profile deployed in a cluster.
type ObjectRow struct {
	Object      string // Kind namespace/name
	Feature     libv1beta1.FeatureID
	Profile     string
	ProfileLink string
}

// deployedObjects lists the objects the summaries' profiles deployed in the
// cluster (Resources and Kustomize features: what the deployer labels as
// theirs), read from the cluster. A cluster that cannot be read is left out
// of the page, which says why.
func (s *Server) deployedObjects(req *http.Request, id libv1beta1.ClusterID, summaries []configv1beta1.ClusterSummary) []ObjectRow {
	if s.Clusters == nil {
		return nil
	}
	var reader client.Reader
	var rows []ObjectRow
	for i := range summaries {
		sum := &summaries[i]
		profile, ok := configv1beta1.ProfileOf(sum)
		if !ok {
			continue
		}
		for _, info := range sum.Status.DeployedGVKs {
			var gvks []schema.GroupVersionKind
			for _, k := range info.DeployedGroupVersionKind {
				if gvk, _ := schema.ParseKindArg(k); gvk != nil {
					gvks = append(gvks, *gvk)
				}
			}
			if len(gvks) == 0 {
				continue
			}
			if reader == nil {
				var err error
				if reader, err = s.Clusters.ClusterReader(req.Context(), id); err != nil {
					noteLeftOut(req, fmt.Errorf("the objects deployed in %s: %w", id, err))
					return nil
				}
			}
			owner := deployer.Owner{Kind: profile.Kind, Name: profile.Name, Cluster: id.String()}
			objs, err := deployer.OwnedObjects(req.Context(), reader, owner, info.FeatureID, gvks)
			if err != nil {
				noteLeftOut(req, fmt.Errorf("the objects %s deployed in %s: %w", profile, id, err))
				continue
			}
			for _, o := range objs {
				rows = append(rows, ObjectRow{Object: o.Ref.String(), Feature: info.FeatureID, Profile: profile.String(), ProfileLink: profileLink(profile)})
			}
		}
	}
	slices.SortFunc(rows, func(a, b ObjectRow) int {
		return strings.Compare(a.Object+" "+a.Profile, b.Object+" "+b.Profile)
	})
	return rows
}
