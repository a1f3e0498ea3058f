package events

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// The record of the CloudEvents an EventTrigger received for a source cluster
// is a ConfigMap in Tugboat's namespace, labelled EventTriggerCloudEventsLabel:
// one data entry per live (source, subject) pair holding the last CloudEvent
// that created it (JSON, structured mode). It is written before a message is
// acknowledged and is what the trigger generates from, so generated objects
// survive restarts and a redelivered message changes nothing. The last
// rejected CloudEvent is kept in an annotation until a later one is accepted.
const rejectedAnnotation = "tugboat.dev/cloudevent-rejected"

func recordName(trigger string, cluster libv1beta1.ClusterID) string {
	return libv1beta1.BoundedName("cloudevents-" + trigger + "-" + shortHash(string(cluster.Normal().Type), cluster.Namespace, cluster.Name))
}

func recordLabels(trigger string, cluster libv1beta1.ClusterID) map[string]string {
	return map[string]string{
		libv1beta1.EventTriggerCloudEventsLabel:      labelValue(trigger),
		libv1beta1.EventTriggerClusterNamespaceLabel: labelValue(cluster.Namespace),
		libv1beta1.EventTriggerClusterNameLabel:      labelValue(cluster.Name),
		libv1beta1.EventTriggerClusterTypeLabel:      string(cluster.Normal().Type),
	}
}

// readRecord reads the record of (trigger, cluster); nil when there is none.
func readRecord(ctx context.Context, reader client.Reader, namespace, trigger string, cluster libv1beta1.ClusterID) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	key := types.NamespacedName{Namespace: namespace, Name: recordName(trigger, cluster)}
	if err := reader.Get(ctx, key, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the CloudEvents record %s: %w", key, err)
	}
	return cm, nil
}

// liveEvents are the CloudEvents of a record, sorted by source, then subject.
func liveEvents(cm *corev1.ConfigMap) ([]*cloudevents.Event, error) {
	if cm == nil {
		return nil, nil
	}
	out := make([]*cloudevents.Event, 0, len(cm.Data))
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		ev := &cloudevents.Event{}
		if err := json.Unmarshal([]byte(cm.Data[k]), ev); err != nil {
			return nil, fmt.Errorf("CloudEvents record %s/%s key %s: %w", cm.Namespace, cm.Name, k, err)
		}
		out = append(out, ev)
	}
	sortEvents(out)
	return out, nil
}

func sortEvents(evs []*cloudevents.Event) {
	slices.SortFunc(evs, func(a, b *cloudevents.Event) int {
		if a.Source() != b.Source() {
			if a.Source() < b.Source() {
				return -1
			}
			return 1
		}
		if a.Subject() < b.Subject() {
			return -1
		} else if a.Subject() > b.Subject() {
			return 1
		}
		return 0
	})
}

// updateRecord changes the record of (trigger, cluster) with mutate, creating
// it when missing, retrying on conflicts; mutate reports whether it changed
// anything. An empty record without a rejection is deleted.
func updateRecord(ctx context.Context, c client.Client, namespace, trigger string, cluster libv1beta1.ClusterID, mutate func(cm *corev1.ConfigMap) bool) error {
	key := types.NamespacedName{Namespace: namespace, Name: recordName(trigger, cluster)}
	return retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		cm := &corev1.ConfigMap{}
		err := c.Get(ctx, key, cm)
		exists := err == nil
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading the CloudEvents record %s: %w", key, err)
		}
		if !exists {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: recordLabels(trigger, cluster)}}
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		if !mutate(cm) {
			return nil
		}
		empty := len(cm.Data) == 0 && cm.Annotations[rejectedAnnotation] == ""
		switch {
		case empty && exists:
			err = c.Delete(ctx, cm, client.Preconditions{ResourceVersion: &cm.ResourceVersion})
			if apierrors.IsNotFound(err) {
				err = nil
			}
		case empty:
			return nil
		case exists:
			err = c.Update(ctx, cm)
		default:
			err = c.Create(ctx, cm)
			if apierrors.IsNotFound(err) {
				if err = clusters.EnsureNamespace(ctx, c, namespace); err == nil {
					err = c.Create(ctx, cm)
				}
			}
		}
		if err != nil && !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("writing the CloudEvents record %s: %w", key, err)
		}
		return err
	})
}

// deleteRecords deletes the CloudEvents records of trigger whose source
// cluster is not in keep (nil: all).
func (r *TriggerReconciler) deleteRecords(ctx context.Context, trigger string, keep map[libv1beta1.ClusterID]bool) error {
	list := &corev1.ConfigMapList{}
	if err := r.Client.List(ctx, list, client.InNamespace(r.Namespace), client.MatchingLabels{libv1beta1.EventTriggerCloudEventsLabel: labelValue(trigger)}); err != nil {
		return fmt.Errorf("listing the CloudEvents records of EventTrigger %s: %w", trigger, err)
	}
	for i := range list.Items {
		cm := &list.Items[i]
		l := cm.Labels
		id := libv1beta1.ClusterID{Type: libv1beta1.ClusterType(l[libv1beta1.EventTriggerClusterTypeLabel]),
			Namespace: l[libv1beta1.EventTriggerClusterNamespaceLabel], Name: l[libv1beta1.EventTriggerClusterNameLabel]}
		if keep[id.Normal()] {
			continue
		}
		if err := r.Client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting the CloudEvents record %s/%s: %w", cm.Namespace, cm.Name, err)
		}
	}
	return nil
}
