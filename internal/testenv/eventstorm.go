package testenv

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// EventStorm is the event-storm fixture of the load and chaos tests: an
// EventTrigger (oneForEvent) whose EventSource matches the ConfigMaps labelled
// SourceLabel=yes in SourceNamespace, so that every such object makes one
// generated profile, which deploys a copy of it, named <object>-copy and
// labelled CopyLabel=CopyValue, into CopiesNamespace of the clusters Clusters
// selects.
type EventStorm struct {
	// Name is the name of the template ConfigMap (namespace default), the
	// EventSource and the EventTrigger.
	Name            string
	SourceNamespace string
	SourceLabel     string
	CopiesNamespace string
	CopyLabel       string
	CopyValue       string
	// Clusters selects both the source and the destination clusters.
	Clusters libv1beta1.Selector
}

// Objects are the template ConfigMap, the EventSource and the EventTrigger to
// create in the management cluster, in that order.
func (s EventStorm) Objects() []client.Object {
	template := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: s.Name, Annotations: map[string]string{libv1beta1.InstantiateAnnotation: "ok"}},
		Data: map[string]string{"cm.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{ .MatchingResource.Name }}-copy"
  namespace: %s
  labels:
    %s: %s
`, s.CopiesNamespace, s.CopyLabel, s.CopyValue)},
	}
	source := &libv1beta1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name},
		Spec: libv1beta1.EventSourceSpec{ResourceSelectors: []libv1beta1.ResourceSelector{{
			Version: "v1", Kind: "ConfigMap", Namespace: s.SourceNamespace,
			LabelFilters: []libv1beta1.LabelFilter{{Key: s.SourceLabel, Operation: libv1beta1.OperationEqual, Value: "yes"}},
		}}},
	}
	trigger := &libv1beta1.EventTrigger{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name},
		Spec: libv1beta1.EventTriggerSpec{
			SourceClusterSelector:      s.Clusters,
			DestinationClusterSelector: s.Clusters,
			EventSourceName:            s.Name,
			OneForEvent:                true,
			PolicyRefs:                 []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: s.Name}},
		},
	}
	return []client.Object{template, source, trigger}
}

// Matching is a source object, named name, that the storm's EventSource
// matches; data is its one data entry "i".
func (s EventStorm) Matching(name, data string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.SourceNamespace, Name: name, Labels: map[string]string{s.SourceLabel: "yes"}},
		Data:       map[string]string{"i": data},
	}
}
