// Package conditions is the one vocabulary of status conditions every Tugboat
// controller writes, in the spirit of Flux's runtime/conditions:
//
//   - Ready: True when the object's desired state is achieved; False with a reason
//     a machine can switch on and a message a person can act on; Unknown while
//     work is in progress.
//   - Reconciling: present (True) while the controller is working towards a new
//     spec; removed when it is done.
//   - Stalled: present (True) when the controller cannot progress without a change
//     to the spec or its inputs (an invalid selector, a template that does not
//     parse); removed otherwise.
//
// Controllers compute conditions in memory during a reconcile and write them once
// with a StatusPatcher, on every exit path.
package conditions

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types.
const (
	Ready       = "Ready"
	Reconciling = "Reconciling"
	Stalled     = "Stalled"
)

// Reasons shared by every controller. Packages add their own for causes only
// they know (e.g. the scheduler's PushFailed); these cover the common cases.
const (
	// Succeeded: the desired state is achieved.
	Succeeded = "Succeeded"
	// Progressing: work towards the desired state is under way.
	Progressing = "Progressing"
	// InvalidSpec: the spec cannot be acted upon (a selector, script or template
	// that does not compile); the object must change.
	InvalidSpec = "InvalidSpec"
	// DependencyNotReady: something the object refers to is missing or not ready.
	DependencyNotReady = "DependencyNotReady"
	// Failed: an attempt failed; it is retried.
	Failed = "Failed"
	// Deleting: the object is being deleted and its finalizer still works.
	Deleting = "Deleting"
)

// Holder is an object whose status carries conditions.
type Holder interface {
	GetGeneration() int64
	// GetConditions returns a pointer to the status' condition list.
	GetConditions() *[]metav1.Condition
}

// Set sets a condition, stamped with the object's generation. The transition time
// changes only when the status does.
func Set(obj Holder, conditionType string, status metav1.ConditionStatus, reason, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	meta.SetStatusCondition(obj.GetConditions(), metav1.Condition{
		Type:               conditionType,
		Status:             status,
		ObservedGeneration: obj.GetGeneration(),
		Reason:             reason,
		Message:            msg,
	})
}

// MarkTrue sets a condition to True.
func MarkTrue(obj Holder, conditionType, reason, format string, args ...any) {
	Set(obj, conditionType, metav1.ConditionTrue, reason, format, args...)
}

// MarkFalse sets a condition to False.
func MarkFalse(obj Holder, conditionType, reason, format string, args ...any) {
	Set(obj, conditionType, metav1.ConditionFalse, reason, format, args...)
}

// MarkUnknown sets a condition to Unknown.
func MarkUnknown(obj Holder, conditionType, reason, format string, args ...any) {
	Set(obj, conditionType, metav1.ConditionUnknown, reason, format, args...)
}

// Delete removes a condition.
func Delete(obj Holder, conditionType string) {
	meta.RemoveStatusCondition(obj.GetConditions(), conditionType)
}

// Get returns a condition, or nil.
func Get(obj Holder, conditionType string) *metav1.Condition {
	return meta.FindStatusCondition(*obj.GetConditions(), conditionType)
}

// IsTrue reports whether a condition is present and True.
func IsTrue(obj Holder, conditionType string) bool {
	return meta.IsStatusConditionTrue(*obj.GetConditions(), conditionType)
}

// MarkReady records success: Ready True with reason Succeeded, Reconciling and
// Stalled removed.
func MarkReady(obj Holder, format string, args ...any) {
	markReady(obj, metav1.ConditionTrue, "", Succeeded, format, args...)
}

// MarkReconciling records work in progress: Reconciling True and Ready Unknown
// with the same reason and message; Stalled removed.
func MarkReconciling(obj Holder, reason, format string, args ...any) {
	markReady(obj, metav1.ConditionUnknown, Reconciling, reason, format, args...)
}

// MarkFailed records a failure that a retry may fix: Ready False; Reconciling
// and Stalled removed.
func MarkFailed(obj Holder, reason, format string, args ...any) {
	markReady(obj, metav1.ConditionFalse, "", reason, format, args...)
}

// MarkStalled records a failure that only a change can fix: Stalled True and
// Ready False with the same reason and message; Reconciling removed.
func MarkStalled(obj Holder, reason, format string, args ...any) {
	markReady(obj, metav1.ConditionFalse, Stalled, reason, format, args...)
}

// markReady sets Ready to status; with it, when active is Reconciling or
// Stalled, that condition True (set first) with the same reason and message.
// Whichever of Reconciling and Stalled is not active is removed.
func markReady(obj Holder, status metav1.ConditionStatus, active, reason, format string, args ...any) {
	if active != "" {
		MarkTrue(obj, active, reason, format, args...)
	}
	Set(obj, Ready, status, reason, format, args...)
	for _, t := range []string{Reconciling, Stalled} {
		if t != active {
			Delete(obj, t)
		}
	}
}
