package profiles

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// Tenant is the identity a profile is deployed as: the tenant admin's service
// account (in the management cluster) its labels name
// (libv1beta1.ServiceAccountNameLabel and ServiceAccountNamespaceLabel).
type Tenant struct {
	Namespace string
	Name      string
}

func (t Tenant) String() string { return t.Namespace + "/" + t.Name }

// Identities gives clients that act as a tenant in a cluster
// (internal/tenancy implements it by impersonation).
type Identities interface {
	Client(ctx context.Context, cluster libv1beta1.ClusterID, t Tenant) (client.Client, error)
	RESTConfig(ctx context.Context, cluster libv1beta1.ClusterID, t Tenant) (*rest.Config, error)
}

// TenantOf reads the tenant a profile's labels name: none when neither label is
// set; an error when only one is.
func TenantOf(labels map[string]string) (*Tenant, error) {
	name, hasName := labels[libv1beta1.ServiceAccountNameLabel]
	ns, hasNS := labels[libv1beta1.ServiceAccountNamespaceLabel]
	switch {
	case !hasName && !hasNS:
		return nil, nil
	case name == "" || ns == "":
		return nil, renderError{fmt.Errorf("labels %s and %s must both name the tenant's service account (got %q and %q)",
			libv1beta1.ServiceAccountNamespaceLabel, libv1beta1.ServiceAccountNameLabel, ns, name)}
	}
	return &Tenant{Namespace: ns, Name: name}, nil
}

// tenantOf is the tenant a summary's profile is deployed as (nil: the manager).
func (r *SummaryReconciler) tenantOf(ctx context.Context, p configv1beta1.ProfileRef) (*Tenant, error) {
	var obj client.Object = &configv1beta1.ClusterProfile{}
	if p.Kind == configv1beta1.ProfileKind {
		obj = &configv1beta1.Profile{}
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: p.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s %s: %w", p.Kind, p.Name, err)
	}
	t, err := TenantOf(obj.GetLabels())
	if err != nil {
		return nil, err
	}
	if t != nil && r.Identities == nil {
		return nil, renderError{fmt.Errorf("%s %s is a tenant's (%s) but this manager deploys no tenant profiles", p.Kind, p.Name, t)}
	}
	return t, nil
}

// clientAs is the client deploying to cluster: the tenant's identity there, or
// the manager's own connection for a profile without a tenant.
func (r *SummaryReconciler) clientAs(ctx context.Context, cluster libv1beta1.ClusterID, t *Tenant) (client.Client, error) {
	if t == nil {
		return r.clientFor(ctx, cluster)
	}
	return r.Identities.Client(ctx, cluster, *t)
}

// restConfigAs is clientAs for Helm.
func (r *SummaryReconciler) restConfigAs(ctx context.Context, cluster libv1beta1.ClusterID, t *Tenant) (*rest.Config, error) {
	if t == nil {
		return r.restConfigFor(ctx, cluster)
	}
	return r.Identities.RESTConfig(ctx, cluster, *t)
}

// checkTenantRights asks the API server, as the tenant, whether every object
// may be applied — a server-side dry run of each, and of each namespace the
// deployer would create — before anything is applied: a tenant's profile
// deploys all of its objects or none. The error names every object refused and
// the right missing (the API server's Forbidden message).
func (r *SummaryReconciler) checkTenantRights(ctx context.Context, t Tenant, cluster libv1beta1.ClusterID, base deployer.Request, objects []deployer.Desired) error {
	if len(objects) == 0 {
		return nil
	}
	c, err := r.Identities.Client(ctx, cluster, t)
	if err != nil {
		return err
	}
	missingNS := map[string]bool{}
	var errs []error
	for _, want := range objects {
		ns := want.Object.GetNamespace()
		if ns == "" || want.SkipNamespaceCreation || base.SkipNamespaceCreation {
			continue
		}
		if namespaced, err := c.IsObjectNamespaced(want.Object); err != nil || !namespaced {
			continue
		}
		if _, seen := missingNS[ns]; seen {
			continue
		}
		nsObj := &unstructured.Unstructured{}
		nsObj.SetAPIVersion("v1")
		nsObj.SetKind("Namespace")
		nsObj.SetName(ns)
		switch err := c.Get(ctx, client.ObjectKey{Name: ns}, nsObj); {
		case err == nil:
			missingNS[ns] = false
		case apierrors.IsNotFound(err):
			missingNS[ns] = true
			if err := c.Create(ctx, nsObj, client.DryRunAll); err != nil {
				errs = append(errs, fmt.Errorf("creating namespace %s: %w", ns, err))
			}
		default:
			missingNS[ns] = false
			errs = append(errs, fmt.Errorf("reading namespace %s: %w", ns, err))
		}
	}
	for _, want := range objects {
		req := base
		req.DryRun, req.ContinueOnError, req.ContinueOnConflict = true, true, true
		req.SkipNamespaceCreation = true
		req.Previous = nil
		req.Objects = []deployer.Desired{want}
		_, err := r.Deployer.Apply(ctx, c, req)
		if err != nil && apierrors.IsNotFound(err) && missingNS[want.Object.GetNamespace()] {
			// Authorized: only the namespace, which the apply creates first, is missing.
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return tenantError{fmt.Errorf("tenant %s may not deploy this profile to cluster %s, nothing was applied: %w", t, cluster, errors.Join(errs...))}
	}
	return nil
}

// tenantError is a tenant lacking a right: retried (its RoleRequest may grant it).
type tenantError struct{ error }

func (e tenantError) Unwrap() error { return e.error }
