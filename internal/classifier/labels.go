package classifier

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ManagedLabelsAnnotation, on a cluster (SveltosCluster or Cluster API Cluster),
// records which classifier manages which of its labels: a JSON object from label
// key to the classifier, "Classifier/<name>" or
// "ManagementClusterClassifier/<name>". A label is managed by one classifier
// at a time; the labels it does not list were set by people or other
// controllers and are never changed by a classifier.
const ManagedLabelsAnnotation = "tugboat.dev/classifier-managed-labels"

// labelOwner names a classifier in ManagedLabelsAnnotation.
func labelOwner(kind, name string) string { return kind + "/" + name }

// describeOwner turns "Classifier/gpu" into "Classifier gpu" for messages.
func describeOwner(owner string) string { return strings.Replace(owner, "/", " ", 1) }

// labelPlan is what a classifier does to one cluster's labels.
type labelPlan struct {
	// labels and owners are the cluster's labels and managed-label owners after the plan.
	labels map[string]string
	owners map[string]string
	// changed is true when labels or owners differ from the cluster's.
	changed bool
	// managed are the keys the classifier manages on the cluster after the plan, sorted.
	managed []string
	// unmanaged are the keys it wants but cannot set, with why.
	unmanaged []libv1beta1.UnManagedLabel
}

// planLabels computes a cluster's labels when the classifier owner wants the
// labels want on it (nil: none any more). Labels the owner manages and no
// longer wants are removed; each wanted label is set when the owner manages it
// already or nobody has set it; a label another classifier manages, or that
// was set by someone else, is left as it is and reported as unmanaged.
func planLabels(current, currentOwners map[string]string, owner string, want []libv1beta1.ClassifierLabel) labelPlan {
	p := labelPlan{labels: maps.Clone(current), owners: maps.Clone(currentOwners)}
	if p.labels == nil {
		p.labels = map[string]string{}
	}
	if p.owners == nil {
		p.owners = map[string]string{}
	}
	wanted := map[string]bool{}
	for _, l := range want {
		wanted[l.Key] = true
	}
	for key, o := range currentOwners {
		if o == owner && !wanted[key] {
			delete(p.labels, key)
			delete(p.owners, key)
			p.changed = true
		}
	}
	for _, l := range want {
		value, present := p.labels[l.Key]
		switch o, owned := p.owners[l.Key]; {
		case owned && o == owner:
			if !present || value != l.Value {
				p.labels[l.Key] = l.Value
				p.changed = true
			}
			p.managed = append(p.managed, l.Key)
		case owned:
			msg := fmt.Sprintf("label %s is managed by %s (value %q); %s wants %q", l.Key, describeOwner(o), value, describeOwner(owner), l.Value)
			p.unmanaged = append(p.unmanaged, libv1beta1.UnManagedLabel{Key: l.Key, FailureMessage: &msg})
		case present:
			msg := fmt.Sprintf("label %s=%q was not set by a classifier (a person or another controller set it); %s wants %q and leaves it alone", l.Key, value, describeOwner(owner), l.Value)
			p.unmanaged = append(p.unmanaged, libv1beta1.UnManagedLabel{Key: l.Key, FailureMessage: &msg})
		default:
			p.labels[l.Key] = l.Value
			p.owners[l.Key] = owner
			p.changed = true
			p.managed = append(p.managed, l.Key)
		}
	}
	slices.Sort(p.managed)
	return p
}

// readOwners parses ManagedLabelsAnnotation; an unreadable annotation is an error.
func readOwners(obj client.Object) (map[string]string, error) {
	raw, ok := obj.GetAnnotations()[ManagedLabelsAnnotation]
	if !ok || raw == "" {
		return map[string]string{}, nil
	}
	owners := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &owners); err != nil {
		return nil, fmt.Errorf("annotation %s of %s %s/%s is not a JSON object of label keys to classifiers: %w",
			ManagedLabelsAnnotation, obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return owners, nil
}

// writeOwners stores owners in ManagedLabelsAnnotation (removed when empty).
func writeOwners(obj client.Object, owners map[string]string) {
	annotations := obj.GetAnnotations()
	if len(owners) == 0 {
		delete(annotations, ManagedLabelsAnnotation)
		obj.SetAnnotations(annotations)
		return
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	data, _ := json.Marshal(owners) // map keys are sorted: the same owners give the same text
	annotations[ManagedLabelsAnnotation] = string(data)
	obj.SetAnnotations(annotations)
}

// labelCluster applies the plan of owner for want to the cluster object (a
// SveltosCluster or Cluster API Cluster as read) and patches it when anything
// changed, with optimistic locking: a cluster changed meanwhile is an error and
// the reconcile runs again on what is there now.
func labelCluster(ctx context.Context, c client.Client, obj client.Object, owner string, want []libv1beta1.ClassifierLabel) (labelPlan, error) {
	owners, err := readOwners(obj)
	if err != nil {
		return labelPlan{}, err
	}
	plan := planLabels(obj.GetLabels(), owners, owner, want)
	if !plan.changed {
		return plan, nil
	}
	updated := obj.DeepCopyObject().(client.Object)
	updated.SetLabels(plan.labels)
	writeOwners(updated, plan.owners)
	if err := c.Patch(ctx, updated, client.MergeFromWithOptions(obj, client.MergeFromWithOptimisticLock{})); err != nil {
		return labelPlan{}, fmt.Errorf("labelling %s %s/%s: %w", kindOf(obj), obj.GetNamespace(), obj.GetName(), err)
	}
	return plan, nil
}

func kindOf(obj client.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	if _, ok := obj.(*libv1beta1.SveltosCluster); ok {
		return libv1beta1.SveltosClusterKind
	}
	return libv1beta1.CAPIClusterKind
}
