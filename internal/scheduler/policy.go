package scheduler

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// Assignment places a deployment target on a cluster type.
type Assignment struct {
	ClusterType      string
	DeploymentTarget string
}

// selector turns an optional label selector into a Selector; absent or empty selects all.
func selector(sel *metav1.LabelSelector) (labels.Selector, error) {
	if sel == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(sel)
}

// Assign applies the policies: every target a policy selects (workspace, when set,
// must equal; then the label selector) is assigned to every cluster type it selects.
// The result is deduplicated and sorted by cluster type, then target. A policy with
// an invalid selector yields an error and no assignments.
func Assign(environment string, policies []v1alpha1.SchedulingPolicy, targets []Target, clusterTypes []v1alpha1.ClusterType) ([]Assignment, []*Error) {
	set := map[Assignment]bool{}
	var errs []*Error
	for _, p := range policies {
		ts, err := selector(p.Spec.DeploymentTargetSelector.LabelSelector)
		if err != nil {
			errs = append(errs, &Error{Environment: environment, Object: "SchedulingPolicy/" + p.Name,
				Err: fmt.Errorf("invalid deploymentTargetSelector: %w", err)})
			continue
		}
		cs, err := selector(p.Spec.ClusterTypeSelector.LabelSelector)
		if err != nil {
			errs = append(errs, &Error{Environment: environment, Object: "SchedulingPolicy/" + p.Name,
				Err: fmt.Errorf("invalid clusterTypeSelector: %w", err)})
			continue
		}
		for _, t := range targets {
			if ws := p.Spec.DeploymentTargetSelector.Workspace; ws != "" && ws != t.Workspace {
				continue
			}
			if !ts.Matches(labels.Set(t.Labels)) {
				continue
			}
			for _, ct := range clusterTypes {
				if cs.Matches(labels.Set(ct.Labels)) {
					set[Assignment{ClusterType: ct.Name, DeploymentTarget: t.Name}] = true
				}
			}
		}
	}
	out := make([]Assignment, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ClusterType != out[j].ClusterType {
			return out[i].ClusterType < out[j].ClusterType
		}
		return out[i].DeploymentTarget < out[j].DeploymentTarget
	})
	return out, errs
}
