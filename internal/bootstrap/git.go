// Package bootstrap points a management cluster at a Git repository holding
// configuration: a Flux GitRepository following a branch and a ClusterProfile
// deploying one folder of it into a cluster. `tug bootstrap git` and the local
// platform's GitOps act (internal/devplatform) both apply it from here.
package bootstrap

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// FieldManager owns the fields a bootstrap writes (server-side apply).
const FieldManager = "tug-bootstrap"

// Git is a GitRepository Namespace/Name following URL at Branch (fetched every
// Interval) and a ClusterProfile Name deploying Path of it into the
// SveltosCluster Cluster. The profile syncs continuously and stops with
// stopMatchingBehavior LeavePolicies: deleting it releases what it deployed.
type Git struct {
	URL, Branch, Path, Name, Namespace string
	Interval                           time.Duration
	Cluster                            types.NamespacedName
}

// Outcome says what one apply did to each object: created, configured or
// unchanged.
type Outcome struct {
	GitRepository, ClusterProfile string
}

// GitRepository is the GitRepository the profile deploys from.
func (g Git) GitRepository() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	u.SetNamespace(g.Namespace)
	u.SetName(g.Name)
	u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "tug"})
	u.Object["spec"] = map[string]any{
		"url":      g.URL,
		"interval": g.Interval.String(),
		"ref":      map[string]any{"branch": g.Branch},
	}
	return u
}

// ClusterProfile is the ClusterProfile deploying the repository's path into
// the cluster.
func (g Git) ClusterProfile() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(configv1beta1.GroupVersion.WithKind(configv1beta1.ClusterProfileKind))
	u.SetName(g.Name)
	u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "tug"})
	u.Object["spec"] = map[string]any{
		"clusterRefs": []any{map[string]any{
			"apiVersion": libv1beta1.GroupVersion.String(),
			"kind":       libv1beta1.SveltosClusterKind,
			"namespace":  g.Cluster.Namespace,
			"name":       g.Cluster.Name,
		}},
		"syncMode":             string(libv1beta1.SyncModeContinuous),
		"stopMatchingBehavior": string(libv1beta1.LeavePolicies),
		"policyRefs": []any{map[string]any{
			"kind":      sources.GitRepository,
			"namespace": g.Namespace,
			"name":      g.Name,
			"path":      g.Path,
		}},
	}
	return u
}

// Apply creates the GitRepository's namespace when missing and server-side
// applies both objects; applied again with the same Git it changes nothing.
func (g Git) Apply(ctx context.Context, c client.Client) (Outcome, error) {
	var out Outcome
	if err := clusters.EnsureNamespace(ctx, c, g.Namespace); err != nil {
		return out, err
	}
	what, err := apply(ctx, c, g.GitRepository())
	if meta.IsNoMatchError(err) {
		return out, fmt.Errorf("the management cluster does not serve %s: install Flux's source-controller first (flux install --components=source-controller)",
			sources.GVK(sources.GitRepository).GroupVersion().WithResource("gitrepositories").GroupResource())
	}
	if err != nil {
		return out, err
	}
	out.GitRepository = what
	if out.ClusterProfile, err = apply(ctx, c, g.ClusterProfile()); err != nil {
		return out, err
	}
	return out, nil
}

// apply server-side applies obj (FieldManager, taking over conflicting fields)
// and says whether it was created, configured or left unchanged: unchanged when
// what bootstrap declares (spec, labels, annotations) reads the same after as
// before. The resourceVersion cannot tell, as it also moves with writes of
// others (source-controller's status) between reading and applying.
func apply(ctx context.Context, c client.Client, obj *unstructured.Unstructured) (string, error) {
	desc := obj.GetKind() + " " + client.ObjectKeyFromObject(obj).String()
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	exists := true
	switch err := c.Get(ctx, client.ObjectKeyFromObject(obj), live); {
	case apierrors.IsNotFound(err):
		exists = false
	case err != nil:
		return "", fmt.Errorf("reading %s: %w", desc, err)
	}
	if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil { //nolint:staticcheck // unstructured apply
		return "", fmt.Errorf("applying %s: %w", desc, err)
	}
	switch {
	case !exists:
		return "created", nil
	case equality.Semantic.DeepEqual(live.Object["spec"], obj.Object["spec"]) &&
		equality.Semantic.DeepEqual(live.GetLabels(), obj.GetLabels()) &&
		equality.Semantic.DeepEqual(live.GetAnnotations(), obj.GetAnnotations()):
		return "unchanged", nil
	default:
		return "configured", nil
	}
}
