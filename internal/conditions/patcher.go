package conditions

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StatusPatcher writes an object's status once per reconcile: created at the top
// of Reconcile from the object as read, its Patch is deferred and sends the
// difference to the status subresource — nothing when the status did not change,
// so a resync with nothing new writes nothing.
//
//	patcher := conditions.NewStatusPatcher(r.Client, obj)
//	defer func() { err = errors.Join(err, patcher.Patch(ctx, obj)) }()
type StatusPatcher struct {
	c      client.Client
	before client.Object
}

// NewStatusPatcher remembers obj as read.
func NewStatusPatcher(c client.Client, obj client.Object) *StatusPatcher {
	return &StatusPatcher{c: c, before: obj.DeepCopyObject().(client.Object)}
}

// Patch writes obj's status when it differs from what was read (a JSON merge patch
// of the status alone: metadata changed during the reconcile is not sent). An
// object deleted meanwhile is not an error.
func (p *StatusPatcher) Patch(ctx context.Context, obj client.Object) error {
	data, err := client.MergeFrom(p.before).Data(obj)
	if err != nil {
		return fmt.Errorf("computing the status patch of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	var diff map[string]json.RawMessage
	if err := json.Unmarshal(data, &diff); err != nil {
		return fmt.Errorf("computing the status patch of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	status, ok := diff["status"]
	if !ok {
		return nil
	}
	statusOnly, err := json.Marshal(map[string]json.RawMessage{"status": status})
	if err != nil {
		return err
	}
	if err := p.c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, statusOnly)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("writing the status of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	p.before = obj.DeepCopyObject().(client.Object)
	return nil
}
