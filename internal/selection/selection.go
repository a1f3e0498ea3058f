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

	"sigs.k8s.io/controller-runtime/pkg/client"

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

// Cluster is a managed cluster as selection sees it, whichever API declares it
// (a SveltosCluster or a Cluster API Cluster; see clusters.View).
type Cluster struct {
	ID     libv1beta1.ClusterID
	Labels map[string]string
	// Ready: a SveltosCluster's status.ready; a Cluster API Cluster's control
	// plane initialized.
	Ready bool
	// Deleting: the object has a deletion timestamp.
	Deleting bool
	// Down: the connection is reported Down (SveltosCluster status.connectionStatus).
	Down bool
	// Paused: spec.paused, or a SveltosCluster outside its spec.activeWindow —
	// nothing is deployed to or withdrawn from the cluster.
	Paused bool
	// Object is the SveltosCluster or Cluster API Cluster itself.
	Object client.Object
}

// Eligible reports whether profiles may target the cluster: ready and not
// being deleted.
func (c Cluster) Eligible() bool { return c.Ready && !c.Deleting }

// Healthy reports whether a set may select the cluster: Eligible and its
// connection is not reported Down.
func (c Cluster) Healthy() bool { return c.Eligible() && !c.Down }

// Ref is the reference stored in status fields for the cluster.
func (c Cluster) Ref() corev1.ObjectReference { return c.ID.Ref() }

// FromSveltos is the view of a SveltosCluster.
func FromSveltos(sc *libv1beta1.SveltosCluster) Cluster {
	return Cluster{
		ID:       libv1beta1.SveltosClusterID(sc.Namespace, sc.Name),
		Labels:   sc.Labels,
		Ready:    sc.Status.Ready,
		Deleting: !sc.DeletionTimestamp.IsZero(),
		Down:     sc.Status.ConnectionStatus == libv1beta1.ConnectionDown,
		Paused:   sc.Spec.Paused || sc.OutsideActiveWindow(),
		Object:   sc,
	}
}

// FromSveltosList is the view of each SveltosCluster of a list.
func FromSveltosList(items []libv1beta1.SveltosCluster) []Cluster {
	out := make([]Cluster, len(items))
	for i := range items {
		out[i] = FromSveltos(&items[i])
	}
	return out
}

// Scope says which clusters a profile or set asks for.
type Scope struct {
	// Namespace restricts matching to clusters in that namespace (a Profile or
	// a Set); empty for a ClusterProfile or ClusterSet.
	Namespace string
	// ClusterSelector selects clusters by label; empty selects none.
	ClusterSelector libv1beta1.Selector
	// ClusterRefs name clusters explicitly: kind SveltosCluster (or an empty
	// kind) or Cluster API Cluster (libv1beta1.ClusterIDFromRef); other kinds
	// are ignored. An empty namespace means Namespace.
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
func MatchingClusters(scope Scope, clusters []Cluster) ([]corev1.ObjectReference, error) {
	return matchRefs(scope, clusters, (*Cluster).Eligible)
}

// SelectedClusters returns the clusters scope selects whatever their readiness
// (not those being deleted). A selected cluster that is only not ready —
// unreachable for a while — keeps its summaries: nothing is withdrawn from it
// because of an outage, and its summaries wait for it.
func SelectedClusters(scope Scope, clusters []Cluster) ([]corev1.ObjectReference, error) {
	return matchRefs(scope, clusters, func(c *Cluster) bool { return !c.Deleting })
}

// matchRefs is match, as references.
func matchRefs(scope Scope, clusters []Cluster, keep func(*Cluster) bool) ([]corev1.ObjectReference, error) {
	found, err := match(scope, clusters, keep)
	if err != nil {
		return nil, err
	}
	out := make([]corev1.ObjectReference, len(found))
	for i, c := range found {
		out[i] = c.Ref()
	}
	return out, nil
}

// match returns the clusters of scope accepted by keep, sorted by namespace
// and name, without duplicates.
func match(scope Scope, clusters []Cluster, keep func(*Cluster) bool) ([]*Cluster, error) {
	sel, err := Compile(scope.ClusterSelector)
	if err != nil {
		return nil, fmt.Errorf("clusterSelector: %w", err)
	}
	explicit := len(scope.ClusterRefs) + len(scope.SetClusters)
	wanted := make(map[libv1beta1.ClusterID]struct{}, explicit)
	for _, refs := range [][]corev1.ObjectReference{scope.ClusterRefs, scope.SetClusters} {
		for _, r := range refs {
			id, ok := libv1beta1.ClusterIDFromRef(r, scope.Namespace)
			if !ok || id.Namespace == "" || (scope.Namespace != "" && id.Namespace != scope.Namespace) {
				continue
			}
			wanted[id] = struct{}{}
		}
	}
	var out []*Cluster
	seen := make(map[libv1beta1.ClusterID]struct{})
	for i := range clusters {
		c := &clusters[i]
		if scope.Namespace != "" && c.ID.Namespace != scope.Namespace {
			continue
		}
		if !keep(c) {
			continue
		}
		key := c.ID.Normal()
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
	slices.SortFunc(out, func(a, b *Cluster) int { return CompareIDs(a.ID, b.ID) })
	return out, nil
}

// CompareIDs orders clusters by namespace, name, then type (SveltosCluster first).
func CompareIDs(a, b libv1beta1.ClusterID) int {
	a, b = a.Normal(), b.Normal()
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name),
		-strings.Compare(string(a.Type), string(b.Type)))
}

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
func SelectSet(namespace string, spec libv1beta1.SetSpec, previouslySelected []corev1.ObjectReference, clusters []Cluster) (libv1beta1.SetStatus, error) {
	matching, err := match(Scope{Namespace: namespace, ClusterSelector: spec.ClusterSelector, ClusterRefs: spec.ClusterRefs}, clusters, (*Cluster).Eligible)
	if err != nil {
		return libv1beta1.SetStatus{}, err
	}
	status := libv1beta1.SetStatus{}
	if len(matching) > 0 {
		status.MatchingClusterRefs = make([]corev1.ObjectReference, len(matching))
		for i, c := range matching {
			status.MatchingClusterRefs[i] = c.Ref()
		}
	}
	limit := int(max(spec.MaxReplicas, 0))
	if limit == 0 {
		return status, nil
	}

	before := make(map[libv1beta1.ClusterID]struct{}, len(previouslySelected))
	for _, r := range previouslySelected {
		if id, ok := libv1beta1.ClusterIDFromRef(r, namespace); ok {
			before[id] = struct{}{}
		}
	}
	chosen := make(map[libv1beta1.ClusterID]struct{}, limit)
	// Keep the still healthy previous selection first, then fill.
	for pass := 0; pass < 2 && len(chosen) < limit; pass++ {
		for _, c := range matching {
			if len(chosen) == limit {
				break
			}
			key := c.ID.Normal()
			if _, was := before[key]; was != (pass == 0) || !c.Healthy() {
				continue
			}
			chosen[key] = struct{}{}
		}
	}
	for _, c := range matching {
		if _, ok := chosen[c.ID.Normal()]; ok {
			status.SelectedClusterRefs = append(status.SelectedClusterRefs, c.Ref())
		}
	}
	return status, nil
}
