package deployer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Withdraw undoes what (owner, feature) deployed: each object of deployed that
// still carries its metadata is deleted, or with leave stripped of Tugboat's
// ownership label and annotations and left in place. Objects already gone or owned
// by someone else are skipped; namespaces the deployer created implicitly carry no
// ownership and are never touched. Objects are handled last first, in the
// segments Apply uses (a cluster-scoped object or one of orderedKinds alone, the
// namespaced objects between them concurrently, at most Parallelism at a time);
// an error does not stop the others. It returns the objects deleted or released,
// last first.
func (d *Deployer) Withdraw(ctx context.Context, c client.Client, owner Owner, feature libv1beta1.FeatureID, deployed []ObjectRef, leave bool) ([]ObjectRef, error) {
	refs := slices.Clone(deployed)
	slices.Reverse(refs)
	read := ownedReader(ctx, c, refs, owner, feature)
	return d.withdrawEach(ctx, c, refs, leave, read, read)
}

// WithdrawOwned is Withdraw for objects OwnedObjects just listed for (owner,
// feature): each is deleted (or released) from what the list said, without
// reading it again, on condition that it has not changed since (UID and
// resourceVersion). One that has changed (taken over by another profile,
// replaced) is read again and withdrawn only if it still carries owner's metadata.
func (d *Deployer) WithdrawOwned(ctx context.Context, c client.Client, owner Owner, feature libv1beta1.FeatureID, owned []OwnedObject, leave bool) ([]ObjectRef, error) {
	owned, refs := lastFirst(owned, func(o OwnedObject) ObjectRef { return o.Ref })
	return d.withdrawEach(ctx, c, refs, leave, func(i int) (client.Object, error) {
		if owned[i].live == nil {
			return nil, fmt.Errorf("withdrawing %s: not listed by OwnedObjects", refs[i])
		}
		return owned[i].live, nil
	}, ownedReader(ctx, c, refs, owner, feature))
}

// WithdrawRecorded is Withdraw for objects the caller recorded with the Version
// Apply reported: each is deleted (or released) with one request, on condition
// that it is still that version (UID and resourceVersion), without reading it
// first. One that has changed since (taken over by another profile, edited,
// replaced) or whose version is unknown is read and withdrawn only if it still
// carries owner's and feature's metadata. Objects are handled as Withdraw does;
// it returns those deleted or released, last first.
func (d *Deployer) WithdrawRecorded(ctx context.Context, c client.Client, owner Owner, feature libv1beta1.FeatureID, recorded []Recorded, leave bool) ([]ObjectRef, error) {
	recorded, refs := lastFirst(recorded, func(r Recorded) ObjectRef { return r.Ref })
	reread := ownedReader(ctx, c, refs, owner, feature)
	return d.withdrawEach(ctx, c, refs, leave, func(i int) (client.Object, error) {
		v := recorded[i].Version
		if v.UID == "" || v.ResourceVersion == "" {
			return reread(i)
		}
		obj := &metav1.PartialObjectMetadata{}
		obj.SetGroupVersionKind(refs[i].GroupVersionKind())
		obj.SetNamespace(refs[i].Namespace)
		obj.SetName(refs[i].Name)
		obj.SetUID(v.UID)
		obj.SetResourceVersion(v.ResourceVersion)
		return obj, nil
	}, reread)
}

// lastFirst returns a reversed copy of items (the last first) and their
// references in the same order.
func lastFirst[T any](items []T, ref func(T) ObjectRef) ([]T, []ObjectRef) {
	items = slices.Clone(items)
	slices.Reverse(items)
	refs := make([]ObjectRef, len(items))
	for i, item := range items {
		refs[i] = ref(item)
	}
	return items, refs
}

// ownedReader reads refs[i] live when it still carries (owner, feature)'s
// metadata, and returns nil when it is gone or belongs to someone else.
func ownedReader(ctx context.Context, c client.Reader, refs []ObjectRef, owner Owner, feature libv1beta1.FeatureID) func(int) (client.Object, error) {
	return func(i int) (client.Object, error) {
		live, err := getOwned(ctx, c, refs[i], owner, string(feature))
		if live == nil || err != nil {
			return nil, err // no typed nil in the interface
		}
		return live, nil
	}
}

// withdrawEach deletes or releases, in segments, each of refs that live returns
// (nil: nothing to do), and returns those it did. When the object changed since
// live read it (a precondition failed) and reread is set, it is read again
// with reread and withdrawn from that.
func (d *Deployer) withdrawEach(ctx context.Context, c client.Client, refs []ObjectRef, leave bool, live, reread func(int) (client.Object, error)) ([]ObjectRef, error) {
	done := make([]bool, len(refs))
	errs := make([]error, len(refs))
	one := func(i int) {
		obj, err := live(i)
		if err != nil {
			errs[i] = fmt.Errorf("withdrawing: %w", err)
			return
		}
		if obj == nil {
			return
		}
		err = d.remove(ctx, c, obj, leave)
		if apierrors.IsConflict(err) && reread != nil {
			if obj, err = reread(i); err == nil && obj == nil {
				return // no longer ours
			}
			if err == nil {
				err = d.remove(ctx, c, obj, leave)
			}
		}
		if errs[i] = err; errs[i] != nil {
			errs[i] = fmt.Errorf("withdrawing %s: %w", refs[i], errs[i])
			return
		}
		done[i] = true
	}
	alone := func(i int) bool { return refs[i].Namespace == "" || orderedKinds[refs[i].Kind] }
	for _, seg := range segments(len(refs), alone) {
		if seg[1]-seg[0] == 1 || d.parallelism() == 1 {
			for i := seg[0]; i < seg[1]; i++ {
				one(i)
			}
			continue
		}
		var wg sync.WaitGroup
		slots := make(chan struct{}, d.parallelism())
		for i := seg[0]; i < seg[1]; i++ {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				one(i)
			}()
		}
		wg.Wait()
	}
	var out []ObjectRef
	for i, ref := range refs {
		if done[i] {
			out = append(out, ref)
		}
	}
	return out, errors.Join(errs...)
}

// remove deletes live (if it is still the object with its UID and
// resourceVersion: a Conflict error otherwise) or, with leave, releases it.
func (d *Deployer) remove(ctx context.Context, c client.Client, live client.Object, leave bool) error {
	if leave {
		return d.release(ctx, c, live)
	}
	uid, rv := live.GetUID(), live.GetResourceVersion()
	err := c.Delete(ctx, live, client.Preconditions{UID: &uid, ResourceVersion: &rv}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) { // gone, or its kind is
		return nil
	}
	return err
}

// release removes Tugboat's ownership metadata from live with a merge patch that
// fails if the object changed since it was read.
func (d *Deployer) release(ctx context.Context, c client.Client, live client.Object) error {
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
	// live is the object's metadata as listed (WithdrawOwned deletes from it).
	live *metav1.PartialObjectMetadata
}

// OwnedObjects is Owned with each object's source. It lists metadata only:
// nothing of the objects' content crosses the wire.
func OwnedObjects(ctx context.Context, c client.Reader, owner Owner, feature libv1beta1.FeatureID, gvks []schema.GroupVersionKind) ([]OwnedObject, error) {
	var out []OwnedObject
	for _, gvk := range gvks {
		list := &metav1.PartialObjectMetadataList{}
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
				item.SetGroupVersionKind(gvk)
				ref := ObjectRef{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Namespace: item.GetNamespace(), Name: item.GetName()}
				ann := item.GetAnnotations()
				out = append(out, OwnedObject{Ref: ref, live: item, Source: Source{
					Kind: ann[libv1beta1.ReferenceKindAnnotation], Namespace: ann[libv1beta1.ReferenceNamespaceAnnotation], Name: ann[libv1beta1.ReferenceNameAnnotation],
				}})
			}
		}
	}
	return out, nil
}
