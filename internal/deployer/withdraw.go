package deployer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Withdraw undoes what (owner, feature) deployed: each object of deployed that
// still carries its metadata is deleted, or with leave stripped of Tugboat's
// ownership label and annotations and left in place. Objects already gone or owned
// by someone else are skipped; namespaces the deployer created implicitly carry no
// ownership and are never touched. Objects are handled last first; an error does
// not stop the others. It returns the objects deleted or released.
func (d *Deployer) Withdraw(ctx context.Context, c client.Client, owner Owner, feature libv1beta1.FeatureID, deployed []ObjectRef, leave bool) ([]ObjectRef, error) {
	var done []ObjectRef
	var errs []error
	for _, ref := range slices.Backward(deployed) {
		live, err := getOwned(ctx, c, ref, owner, string(feature))
		if err != nil {
			errs = append(errs, fmt.Errorf("withdrawing: %w", err))
			continue
		}
		if live == nil {
			continue
		}
		if leave {
			err = d.release(ctx, c, live)
		} else {
			uid := live.GetUID()
			err = c.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
			if apierrors.IsNotFound(err) {
				err = nil
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("withdrawing %s: %w", ref, err))
			continue
		}
		done = append(done, ref)
	}
	return done, errors.Join(errs...)
}

// release removes Tugboat's ownership metadata from live with a merge patch that
// fails if the object changed since it was read.
func (d *Deployer) release(ctx context.Context, c client.Client, live *unstructured.Unstructured) error {
	annotations := map[string]any{}
	for _, k := range ownershipKeys() {
		annotations[k] = nil
	}
	patch := map[string]any{"metadata": map[string]any{
		"resourceVersion": live.GetResourceVersion(),
		"labels":          map[string]any{libv1beta1.ReasonLabel: nil},
		"annotations":     annotations,
	}}
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	return c.Patch(ctx, live, client.RawPatch(types.MergePatchType, raw), client.FieldOwner(d.fieldManager()))
}

// Owned lists the objects of the given kinds that carry the metadata of (owner,
// feature), e.g. to rebuild Request.Previous from a ClusterSummary's
// deployedGVKs. Kinds the cluster does not serve are skipped.
func Owned(ctx context.Context, c client.Reader, owner Owner, feature libv1beta1.FeatureID, gvks []schema.GroupVersionKind) ([]ObjectRef, error) {
	objs, err := OwnedObjects(ctx, c, owner, feature, gvks)
	out := make([]ObjectRef, len(objs))
	for i, o := range objs {
		out[i] = o.Ref
	}
	return out, err
}

// OwnedObject is an object an owner deployed, and the source it came from.
type OwnedObject struct {
	Ref ObjectRef
	// Source is the ConfigMap, Secret or Flux source the object's manifest came
	// from (its reference annotations; Tier is not recorded there).
	Source Source
}

// OwnedObjects is Owned with each object's source.
func OwnedObjects(ctx context.Context, c client.Reader, owner Owner, feature libv1beta1.FeatureID, gvks []schema.GroupVersionKind) ([]OwnedObject, error) {
	var out []OwnedObject
	for _, gvk := range gvks {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		err := c.List(ctx, list, client.MatchingLabels{libv1beta1.ReasonLabel: string(feature)})
		switch {
		case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
			continue
		case err != nil:
			return nil, fmt.Errorf("listing %s deployed by %s: %w", gvk.Kind, owner, err)
		}
		for i := range list.Items {
			item := &list.Items[i]
			if h, ok := holderOf(item); ok && h.is(owner) {
				ref := RefOf(item)
				ref.APIVersion, ref.Kind = gvk.GroupVersion().String(), gvk.Kind
				ann := item.GetAnnotations()
				out = append(out, OwnedObject{Ref: ref, Source: Source{
					Kind: ann[libv1beta1.ReferenceKindAnnotation], Namespace: ann[libv1beta1.ReferenceNamespaceAnnotation], Name: ann[libv1beta1.ReferenceNameAnnotation],
				}})
			}
		}
	}
	return out, nil
}
