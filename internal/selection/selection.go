// Package selection decides which SveltosClusters a ClusterProfile/Profile
// targets and which clusters a ClusterSet/Set selects. It is pure: callers
// pass the clusters they listed and store the results.
package selection

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8sselection "k8s.io/apimachinery/pkg/selection"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Compile validates a cluster selector and converts it for matching. An empty
// selector (no matchLabels, no matchExpressions) yields a selector matching
// nothing. Errors name the offending matchLabels entry or matchExpressions
// element.
func Compile(selector libv1beta1.Selector) (labels.Selector, error) {
	if selector.IsEmpty() {
		return labels.Nothing(), nil
	}
	reqs := make([]labels.Requirement, 0, len(selector.MatchLabels)+len(selector.MatchExpressions))
	for _, k := range slices.Sorted(maps.Keys(selector.MatchLabels)) {
		v := selector.MatchLabels[k]
		r, err := labels.NewRequirement(k, k8sselection.Equals, []string{v})
		if err != nil {
			return nil, fmt.Errorf("matchLabels %q: %q: %w", k, v, err)
		}
		reqs = append(reqs, *r)
	}
	for i, e := range selector.MatchExpressions {
		var op k8sselection.Operator
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			op = k8sselection.In
		case metav1.LabelSelectorOpNotIn:
			op = k8sselection.NotIn
		case metav1.LabelSelectorOpExists:
			op = k8sselection.Exists
		case metav1.LabelSelectorOpDoesNotExist:
			op = k8sselection.DoesNotExist
		default:
			return nil, fmt.Errorf("matchExpressions[%d] (key %q): unknown operator %q (want In, NotIn, Exists or DoesNotExist)", i, e.Key, e.Operator)
		}
		r, err := labels.NewRequirement(e.Key, op, slices.Clone(e.Values))
		if err != nil {
			return nil, fmt.Errorf("matchExpressions[%d] (key %q, operator %s): %w", i, e.Key, e.Operator, err)
		}
		reqs = append(reqs, *r)
	}
	return labels.NewSelector().Add(reqs...), nil
}

// Matches reports whether a cluster with these labels is selected. An empty
// selector matches nothing; an invalid one is an error naming the bad part.
// To match many clusters, Compile once instead.
func Matches(selector libv1beta1.Selector, clusterLabels map[string]string) (bool, error) {
	s, err := Compile(selector)
	if err != nil {
		return false, fmt.Errorf("clusterSelector: %w", err)
	}
	return s.Matches(labels.Set(clusterLabels)), nil
}

// Eligible reports whether profiles may target the cluster: status.ready is
// true and it is not being deleted.
func Eligible(c *libv1beta1.SveltosCluster) bool {
	return c.Status.Ready && c.DeletionTimestamp.IsZero()
}

// Healthy reports whether a set may select the cluster: Eligible and its
// connection is not reported Down.
func Healthy(c *libv1beta1.SveltosCluster) bool {
	return Eligible(c) && c.Status.ConnectionStatus != libv1beta1.ConnectionDown
}

// Ref is the reference stored in status fields for a cluster.
func Ref(c *libv1beta1.SveltosCluster) corev1.ObjectReference {
	return corev1.ObjectReference{
		APIVersion: libv1beta1.GroupVersion.String(),
		Kind:       libv1beta1.SveltosClusterKind,
		Namespace:  c.Namespace,
		Name:       c.Name,
	}
}

// Scope says which clusters a profile or set asks for.
type Scope struct {
	// Namespace restricts matching to clusters in that namespace (a Profile or
	// a Set); empty for a ClusterProfile or ClusterSet.
	Namespace string
	// ClusterSelector selects clusters by label; empty selects none.
	ClusterSelector libv1beta1.Selector
	// ClusterRefs name clusters explicitly. Only kind SveltosCluster (or an
	// empty kind) is considered; an empty namespace means Namespace.
	ClusterRefs []corev1.ObjectReference
	// SetClusters are the selectedClusterRefs of the ClusterSets/Sets named in
	// the profile's setRefs.
	SetClusters []corev1.ObjectReference
}

// ProfileScope builds the Scope of a ClusterProfile (namespace "") or Profile
// (its namespace). setSelected maps ClusterSet/Set names to their
// status.selectedClusterRefs; setRefs naming an absent set contribute
// nothing and are returned as missing, sorted, for the caller to report.
func ProfileScope(namespace string, spec *configv1beta1.Spec, setSelected map[string][]corev1.ObjectReference) (scope Scope, missing []string) {
	scope = Scope{Namespace: namespace, ClusterSelector: spec.ClusterSelector, ClusterRefs: spec.ClusterRefs}
	for _, name := range spec.SetRefs {
		refs, ok := setSelected[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		scope.SetClusters = append(scope.SetClusters, refs...)
	}
	slices.Sort(missing)
	return scope, slices.Compact(missing)
}

// MatchingClusters returns the clusters the scope targets: those matching the
// selector, plus the listed and set-selected ones that exist — keeping only
// Eligible clusters (ready, not deleting) and, for a namespaced scope, those
// in its namespace. The result is deduplicated and sorted by namespace, name.
func MatchingClusters(scope Scope, clusters []libv1beta1.SveltosCluster) ([]corev1.ObjectReference, error) {
	found, err := match(scope, clusters, Eligible)
	if err != nil {
		return nil, err
	}
	out := make([]corev1.ObjectReference, len(found))
	for i, c := range found {
		out[i] = Ref(c)
	}
	return out, nil
}

// match returns the clusters of scope accepted by keep, sorted by namespace
// and name, without duplicates.
func match(scope Scope, clusters []libv1beta1.SveltosCluster, keep func(*libv1beta1.SveltosCluster) bool) ([]*libv1beta1.SveltosCluster, error) {
	sel, err := Compile(scope.ClusterSelector)
	if err != nil {
		return nil, fmt.Errorf("clusterSelector: %w", err)
	}
	explicit := len(scope.ClusterRefs) + len(scope.SetClusters)
	wanted := make(map[clusterKey]struct{}, explicit)
	for _, refs := range [][]corev1.ObjectReference{scope.ClusterRefs, scope.SetClusters} {
		for _, r := range refs {
			if r.Kind != "" && r.Kind != libv1beta1.SveltosClusterKind {
				continue
			}
			ns := r.Namespace
			if ns == "" {
				ns = scope.Namespace
			}
			if ns == "" || (scope.Namespace != "" && ns != scope.Namespace) {
				continue
			}
			wanted[clusterKey{ns, r.Name}] = struct{}{}
		}
	}
	var out []*libv1beta1.SveltosCluster
	seen := make(map[clusterKey]struct{})
	for i := range clusters {
		c := &clusters[i]
		if scope.Namespace != "" && c.Namespace != scope.Namespace {
			continue
		}
		if !keep(c) {
			continue
		}
		key := clusterKey{c.Namespace, c.Name}
		_, listed := wanted[key]
		if !listed && !sel.Matches(labels.Set(c.Labels)) {
			continue
		}
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *libv1beta1.SveltosCluster) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

type clusterKey struct{ namespace, name string }

// SelectSet computes the status of a ClusterSet (namespace "") or Set (its
// namespace) from its spec, the clusters, and the clusters it selected
// before (status.selectedClusterRefs):
//
//   - matchingClusterRefs: the Eligible clusters matching the selector or
//     listed in clusterRefs, sorted;
//   - selectedClusterRefs: at most maxReplicas Healthy matching clusters.
//     Previously selected clusters that are still matching and Healthy are
//     kept (stability); a selected cluster going Down, not ready, deleted or
//     no longer matching is dropped and replaced (failover); free slots are
//     filled in namespace/name order. The result is sorted.
//
// failureMessage is cleared. An invalid selector is returned as an error.
func SelectSet(namespace string, spec libv1beta1.SetSpec, previouslySelected []corev1.ObjectReference, clusters []libv1beta1.SveltosCluster) (libv1beta1.SetStatus, error) {
	matching, err := match(Scope{Namespace: namespace, ClusterSelector: spec.ClusterSelector, ClusterRefs: spec.ClusterRefs}, clusters, Eligible)
	if err != nil {
		return libv1beta1.SetStatus{}, err
	}
	status := libv1beta1.SetStatus{}
	if len(matching) > 0 {
		status.MatchingClusterRefs = make([]corev1.ObjectReference, len(matching))
		for i, c := range matching {
			status.MatchingClusterRefs[i] = Ref(c)
		}
	}
	limit := int(max(spec.MaxReplicas, 0))
	if limit == 0 {
		return status, nil
	}

	before := make(map[clusterKey]struct{}, len(previouslySelected))
	for _, r := range previouslySelected {
		before[clusterKey{r.Namespace, r.Name}] = struct{}{}
	}
	chosen := make(map[clusterKey]struct{}, limit)
	// Keep the still healthy previous selection first, then fill.
	for pass := 0; pass < 2 && len(chosen) < limit; pass++ {
		for _, c := range matching {
			if len(chosen) == limit {
				break
			}
			key := clusterKey{c.Namespace, c.Name}
			if _, was := before[key]; was != (pass == 0) || !Healthy(c) {
				continue
			}
			chosen[key] = struct{}{}
		}
	}
	for _, c := range matching {
		if _, ok := chosen[clusterKey{c.Namespace, c.Name}]; ok {
			status.SelectedClusterRefs = append(status.SelectedClusterRefs, Ref(c))
		}
	}
	return status, nil
}
