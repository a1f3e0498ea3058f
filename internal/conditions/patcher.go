package conditions

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StatusPatcher is a reconciler's one writer of its object's status: created at
// the top of Reconcile from the object as read, its Patch is deferred and sends
// the difference to the status subresource — nothing when the status did not
// change, so a resync with nothing new writes nothing.
//
//	patcher := conditions.NewStatusPatcher(r.Client, obj)
//	defer func() { err = errors.Join(err, patcher.Patch(ctx, obj)) }()
//
// A reconcile that must show progress before a long step (a feature that says
// Provisioning before its apply, a promotion recorded before the next stage's
// profile is written) calls Flush; the deferred Patch then sends only what
// changed after.
type StatusPatcher struct {
	c      client.Client
	obj    client.Object
	before client.Object
	// lock makes every write conditional on the object's resourceVersion.
	lock bool
}

// NewStatusPatcher remembers obj as read; obj is the object the reconcile
// changes in memory, the one Flush writes.
func NewStatusPatcher(c client.Client, obj client.Object) *StatusPatcher {
	return &StatusPatcher{c: c, obj: obj, before: obj.DeepCopyObject().(client.Object)}
}

// WithOptimisticLock makes every write of p conditional on the resourceVersion
// of the object held in memory: a reconcile that started from a stale copy (an
// informer behind the server) gets a conflict instead of overwriting a newer
// status with an older one, and can run again from the newer copy. For a status
// whose lists stand for something outside the object (a summary's record of the
// objects it deployed), where replacing a newer list by an older one loses track.
func (p *StatusPatcher) WithOptimisticLock() *StatusPatcher {
	p.lock = true
	return p
}

// Patch writes obj's status when it differs from what was read or last written.
// An object deleted meanwhile is not an error.
func (p *StatusPatcher) Patch(ctx context.Context, obj client.Object) error {
	if err := patchStatus(ctx, p.c, p.before, obj, p.lock); err != nil {
		return err
	}
	p.before = obj.DeepCopyObject().(client.Object)
	return nil
}

// Flush writes the status of the object given to NewStatusPatcher now, before
// the reconcile ends.
func (p *StatusPatcher) Flush(ctx context.Context) error {
	if err := p.Patch(ctx, p.obj); err != nil {
		return fmt.Errorf("writing progress: %w", err)
	}
	return nil
}

// PatchStatus is the one place that writes a status: obj's status when it
// differs from before's, as a JSON merge patch of the status alone (metadata
// changed meanwhile is not sent). Reconcilers write their own object's status
// through a StatusPatcher; the reports they keep beside it (ClusterReport,
// EventReport, ClassifierReport, HealthCheckReport) call PatchStatus directly.
// An object deleted meanwhile is not an error.
func PatchStatus(ctx context.Context, c client.Client, before, obj client.Object) error {
	return patchStatus(ctx, c, before, obj, false)
}

// patchStatus is PatchStatus, conditional on obj's resourceVersion when lock is
// set (a conflict is returned, wrapped).
func patchStatus(ctx context.Context, c client.Client, before, obj client.Object, lock bool) error {
	data, err := client.MergeFrom(before).Data(obj)
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
	patch := map[string]any{"status": status}
	if lock {
		patch["metadata"] = map[string]string{"resourceVersion": obj.GetResourceVersion()}
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if err := c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, body)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("writing the status of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	return nil
}
