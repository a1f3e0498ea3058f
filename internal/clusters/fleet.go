package clusters

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	capiv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// CAPIVersion is the version of Cluster API's Cluster that Tugboat reads:
// CAPIv1beta2 (Cluster API v1.11 and later) when served, else CAPIv1beta1;
// CAPINone when Cluster API is not installed in the management cluster.
type CAPIVersion string

// Cluster API versions Tugboat reads.
const (
	CAPINone    CAPIVersion = ""
	CAPIv1beta1 CAPIVersion = "v1beta1"
	CAPIv1beta2 CAPIVersion = "v1beta2"
)

// DetectCAPI asks the management cluster's REST mapper which version of
// Cluster API's Cluster it serves (CAPINone when none).
func DetectCAPI(mapper meta.RESTMapper) CAPIVersion {
	for _, v := range []CAPIVersion{CAPIv1beta2, CAPIv1beta1} {
		gk := schema.GroupKind{Group: libv1beta1.CAPIGroup, Kind: libv1beta1.CAPIClusterKind}
		if _, err := mapper.RESTMapping(gk, string(v)); err == nil {
			return v
		}
	}
	return CAPINone
}

// FleetFor is the Fleet of a manager: its client, and Cluster API when the
// management cluster serves it at start (installing Cluster API later needs a
// manager restart, as Flux's source API does).
func FleetFor(mgr ctrl.Manager) Fleet {
	return Fleet{Reader: mgr.GetClient(), CAPI: DetectCAPI(mgr.GetRESTMapper())}
}

// Fleet lists the managed clusters, whichever API declares them: every
// SveltosCluster and, when Cluster API is installed, every Cluster API Cluster.
// Controllers go through it so that both kinds are treated alike.
type Fleet struct {
	Reader client.Reader
	// CAPI is the Cluster API version to read; CAPINone reads SveltosClusters only.
	CAPI CAPIVersion
}

// List returns the clusters of a namespace ("" for all).
func (f Fleet) List(ctx context.Context, namespace string) ([]selection.Cluster, error) {
	sveltos := &libv1beta1.SveltosClusterList{}
	if err := f.Reader.List(ctx, sveltos, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing SveltosClusters: %w", err)
	}
	out := selection.FromSveltosList(sveltos.Items)
	list := f.capiList()
	if list == nil {
		return out, nil
	}
	if err := f.Reader.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing Cluster API Clusters: %w", err)
	}
	err := meta.EachListItem(list, func(o runtime.Object) error {
		if v, ok := View(o.(client.Object)); ok {
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// Get returns one cluster; a missing cluster is a NotFound error (check with
// apierrors.IsNotFound), as is a Cluster API cluster when Cluster API is not read.
func (f Fleet) Get(ctx context.Context, id libv1beta1.ClusterID) (selection.Cluster, error) {
	obj := f.newObject(id)
	if obj == nil {
		return selection.Cluster{}, apierrors.NewNotFound(capiv1beta2.GroupVersion.WithResource("clusters").GroupResource(), id.Name)
	}
	if err := f.Reader.Get(ctx, id.Key(), obj); err != nil {
		return selection.Cluster{}, fmt.Errorf("reading %s %s: %w", id.Kind(), id, err)
	}
	v, _ := View(obj)
	return v, nil
}

func (f Fleet) newObject(id libv1beta1.ClusterID) client.Object {
	if !id.IsCAPI() {
		return &libv1beta1.SveltosCluster{}
	}
	switch f.CAPI {
	case CAPIv1beta1:
		return &capiv1beta1.Cluster{}
	case CAPIv1beta2:
		return &capiv1beta2.Cluster{}
	}
	return nil
}

func (f Fleet) capiList() client.ObjectList {
	switch f.CAPI {
	case CAPIv1beta1:
		return &capiv1beta1.ClusterList{}
	case CAPIv1beta2:
		return &capiv1beta2.ClusterList{}
	}
	return nil
}

// Watch adds to a controller a watch on every kind of cluster (SveltosCluster,
// and Cluster API Cluster when read), with the same handler and predicates.
func (f Fleet) Watch(b *builder.Builder, h handler.EventHandler, predicates ...predicate.Predicate) *builder.Builder {
	b = b.Watches(&libv1beta1.SveltosCluster{}, h, builder.WithPredicates(predicates...))
	if obj := f.newObject(libv1beta1.CAPIClusterID("", "")); obj != nil {
		b = b.Watches(obj, h, builder.WithPredicates(predicates...))
	}
	return b
}

// ViewChanged lets through the updates of a cluster (of either kind) for
// which changed(old, new) holds; creations and deletions always pass.
func ViewChanged(changed func(old, new selection.Cluster) bool) predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, okOld := View(e.ObjectOld)
			n, okNew := View(e.ObjectNew)
			return !okOld || !okNew || changed(o, n)
		},
	}
}

// View is how selection sees a SveltosCluster or a Cluster API Cluster (of
// either version); ok is false for any other object.
//
// A Cluster API Cluster is Ready once its control plane is initialized: in
// v1beta2 status.initialization.controlPlaneInitialized or the condition
// ControlPlaneInitialized; in v1beta1 status.controlPlaneReady or the condition
// ControlPlaneInitialized. Labels are the Cluster's; spec.paused pauses it.
func View(obj client.Object) (selection.Cluster, bool) {
	switch c := obj.(type) {
	case *libv1beta1.SveltosCluster:
		return selection.FromSveltos(c), true
	case *capiv1beta2.Cluster:
		ready := (c.Status.Initialization.ControlPlaneInitialized != nil && *c.Status.Initialization.ControlPlaneInitialized) ||
			meta.IsStatusConditionTrue(c.Status.Conditions, capiv1beta2.ClusterControlPlaneInitializedCondition)
		return capiView(c, capiv1beta2.GroupVersion.WithKind(libv1beta1.CAPIClusterKind), ready, c.Spec.Paused != nil && *c.Spec.Paused), true
	case *capiv1beta1.Cluster:
		ready := c.Status.ControlPlaneReady
		for _, cond := range c.Status.Conditions {
			if cond.Type == capiv1beta1.ControlPlaneInitializedCondition && cond.Status == "True" {
				ready = true
			}
		}
		return capiView(c, capiv1beta1.GroupVersion.WithKind(libv1beta1.CAPIClusterKind), ready, c.Spec.Paused), true
	}
	return selection.Cluster{}, false
}

// capiView fills in the Cluster's apiVersion and kind (objects read through a
// typed client lack them; templates see them as .Cluster.apiVersion/.kind).
func capiView(c client.Object, gvk schema.GroupVersionKind, ready, paused bool) selection.Cluster {
	if c.GetObjectKind().GroupVersionKind().Empty() {
		c.GetObjectKind().SetGroupVersionKind(gvk)
	}
	return selection.Cluster{
		ID:       libv1beta1.CAPIClusterID(c.GetNamespace(), c.GetName()),
		Labels:   c.GetLabels(),
		Ready:    ready,
		Deleting: !c.GetDeletionTimestamp().IsZero(),
		Paused:   paused,
		Object:   c,
	}
}
