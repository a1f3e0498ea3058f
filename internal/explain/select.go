package explain

import (
	"fmt"
	"strings"
	"time"

	capiv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8sselection "k8s.io/apimachinery/pkg/selection"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// selectionSteps explains whether the profile selects the cluster: its
// namespace (a Profile), each selector term, clusterRefs and each set.
// selected is selection.MatchingClusters' answer for the whole scope, the
// cluster taken as eligible (readiness is its own step).
func selectionSteps(in *Input, ref configv1beta1.ProfileRef) (steps []Step, selected bool) {
	spec := in.Profile.GetSpec()
	namespace := ref.Namespace
	// Eligibility is explained by the readiness step; here only selection counts.
	view := *in.Cluster
	view.Ready, view.Deleting = true, false
	matches := func(scope selection.Scope) (bool, error) {
		scope.Namespace = namespace
		refs, err := selection.MatchingClusters(scope, []selection.Cluster{view})
		return len(refs) > 0, err
	}

	if namespace != "" && view.ID.Namespace != namespace {
		return []Step{{Check: CheckNamespace, Verdict: Blocks, Title: "namespace " + namespace,
			Detail: fmt.Sprintf("a Profile only reaches clusters of its own namespace (%s); this cluster is in %s", namespace, view.ID.Namespace)}}, false
	}

	var failing []int // steps that fail, blocking only if nothing selects the cluster
	fail := func(s Step) {
		failing = append(failing, len(steps))
		steps = append(steps, s)
	}

	// clusterSelector, term by term.
	switch sel, err := selection.Compile(spec.ClusterSelector); {
	case err != nil:
		steps = append(steps, Step{Check: CheckClusterSelector, Verdict: Blocks, Title: "clusterSelector invalid",
			Detail: fmt.Sprintf("clusterSelector: %v (the profile keeps its clusters as they were until the selector is fixed)", err)})
		return steps, false
	case spec.ClusterSelector.IsEmpty() && len(spec.ClusterRefs) == 0 && len(spec.SetRefs) == 0:
		steps = append(steps, Step{Check: CheckClusterSelector, Verdict: Blocks, Title: "no clusterSelector",
			Detail: "the profile selects no cluster: its clusterSelector is empty and it has no clusterRefs or setRefs"})
	case spec.ClusterSelector.IsEmpty():
		steps = append(steps, Step{Check: CheckClusterSelector, Verdict: NotApplicable, Title: "no clusterSelector",
			Detail: "an empty clusterSelector selects no cluster by label"})
	default:
		reqs, _ := sel.Requirements()
		set := labels.Set(view.Labels)
		for _, r := range reqs {
			s := Step{Check: CheckClusterSelector, Verdict: Passes, Title: "clusterSelector " + r.String(), Detail: termDetail(r, set)}
			if !r.Matches(set) {
				s.Verdict = Blocks
				fail(s)
				continue
			}
			steps = append(steps, s)
		}
	}

	// clusterRefs.
	if len(spec.ClusterRefs) == 0 {
		steps = append(steps, Step{Check: CheckClusterRefs, Verdict: NotApplicable, Title: "no clusterRefs", Detail: "no cluster is listed"})
	} else if listed, _ := matches(selection.Scope{ClusterRefs: spec.ClusterRefs}); listed {
		steps = append(steps, Step{Check: CheckClusterRefs, Verdict: Passes, Title: "clusterRefs",
			Detail: fmt.Sprintf("lists %s %s", view.ID.Kind(), view.ID.Key())})
	} else {
		fail(Step{Check: CheckClusterRefs, Verdict: Blocks, Title: "clusterRefs",
			Detail: "lists " + refList(spec.ClusterRefs, namespace) + ", not this cluster"})
	}

	// setRefs, set by set.
	setKind := libv1beta1.ClusterSetKind
	if ref.Kind == configv1beta1.ProfileKind {
		setKind = libv1beta1.SetKind
	}
	for _, name := range spec.SetRefs {
		title := "setRef " + setKind + " " + name
		set := in.Sets[name]
		if set == nil {
			fail(Step{Check: CheckSetRef, Verdict: Blocks, Title: title, Detail: setKind + " " + qualified(namespace, name) + " not found"})
			continue
		}
		if in, _ := matches(selection.Scope{SetClusters: set.Status.SelectedClusterRefs}); in {
			steps = append(steps, Step{Check: CheckSetRef, Verdict: Passes, Title: title,
				Detail: fmt.Sprintf("selected this cluster (selected: %s; maxReplicas %d)", clusterList(set.Status.SelectedClusterRefs), set.Spec.MaxReplicas)})
			continue
		}
		candidate := false
		for _, r := range set.Status.MatchingClusterRefs {
			candidate = candidate || sameCluster(r, view.ID)
		}
		detail := fmt.Sprintf("not a candidate: its clusterSelector and clusterRefs do not select this ready cluster (candidates: %s)", clusterList(set.Status.MatchingClusterRefs))
		if candidate {
			detail = fmt.Sprintf("a candidate, not selected: maxReplicas %d, selected %s (a selected cluster is replaced only when it goes Down, becomes not ready or stops matching)",
				set.Spec.MaxReplicas, clusterList(set.Status.SelectedClusterRefs))
		}
		if set.Status.FailureMessage != nil {
			detail += "; the set reports: " + *set.Status.FailureMessage
		}
		fail(Step{Check: CheckSetRef, Verdict: Blocks, Title: title, Detail: detail})
	}

	// The whole scope, as the profile controller computes it.
	setSelected := map[string][]corev1.ObjectReference{}
	for name, set := range in.Sets {
		if set != nil {
			setSelected[name] = set.Status.SelectedClusterRefs
		}
	}
	scope, _ := selection.ProfileScope(namespace, spec, setSelected)
	refs, err := selection.MatchingClusters(scope, []selection.Cluster{view})
	selected = err == nil && len(refs) > 0
	if selected {
		// Another source selects the cluster: the failing ones decide nothing.
		for _, i := range failing {
			steps[i].Verdict = NotApplicable
		}
	}
	return steps, selected
}

// termDetail says what the cluster's labels hold for the key of a selector term.
func termDetail(r labels.Requirement, set labels.Set) string {
	k := r.Key()
	v, has := set[k]
	if !has {
		return "cluster has no label " + k
	}
	if r.Operator() == k8sselection.Exists || r.Operator() == k8sselection.DoesNotExist {
		return fmt.Sprintf("cluster has label %s (%s=%s)", k, k, v)
	}
	return fmt.Sprintf("cluster has %s=%s", k, v)
}

// refList names clusterRefs as the profile resolves them.
func refList(refs []corev1.ObjectReference, namespace string) string {
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		if id, ok := libv1beta1.ClusterIDFromRef(r, namespace); ok {
			names = append(names, id.String())
		} else {
			names = append(names, fmt.Sprintf("%s %s (not a cluster kind)", r.Kind, qualified(r.Namespace, r.Name)))
		}
	}
	return strings.Join(names, ", ")
}

func qualified(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// clusterSteps explain the cluster's readiness, pause and shard.
func clusterSteps(c *selection.Cluster) []Step {
	return []Step{readinessStep(c), clusterPausedStep(c), shardStep(c)}
}

func readinessStep(c *selection.Cluster) Step {
	s := Step{Check: CheckReadiness, Title: "cluster ready", Verdict: Passes}
	if c.Deleting {
		s.Title, s.Verdict = "cluster being deleted", Blocks
		s.Detail = fmt.Sprintf("%s %s has a deletion timestamp: nothing more is deployed to it", c.ID.Kind(), c.ID.Key())
		return s
	}
	switch o := c.Object.(type) {
	case *libv1beta1.SveltosCluster:
		st := o.Status
		switch {
		case st.Ready && st.ConnectionStatus == libv1beta1.ConnectionDown:
			s.Detail = fmt.Sprintf("status.ready, but connectionStatus Down after %d failed probes", st.ConnectionFailures)
		case st.Ready:
			s.Detail = "status.ready"
			if st.Version != "" {
				s.Detail += ", Kubernetes " + st.Version
			}
			if st.ConnectionStatus != "" {
				s.Detail += ", connection " + string(st.ConnectionStatus)
			}
		case st.ConnectionStatus == "" && st.FailureMessage == nil:
			s.Title, s.Verdict = "cluster not ready", Blocks
			s.Detail = "not probed yet: status.ready is false and no connectionStatus is reported (is the manager running?)"
		default:
			s.Title, s.Verdict = "cluster not ready", Blocks
			s.Detail = "status.ready is false"
			if st.ConnectionStatus != "" {
				s.Detail += fmt.Sprintf(", connectionStatus %s", st.ConnectionStatus)
			}
			if st.ConnectionFailures > 0 {
				s.Detail += fmt.Sprintf(" (%d failed probes in a row)", st.ConnectionFailures)
			}
			if st.FailureMessage != nil {
				s.Detail += ": " + *st.FailureMessage
			}
		}
		return s
	case *capiv1beta1.Cluster, *capiv1beta2.Cluster:
		if c.Ready {
			s.Detail = "Cluster API control plane initialized"
		} else {
			s.Title, s.Verdict = "cluster not ready", Blocks
			s.Detail = "Cluster API control plane not initialized yet"
		}
		return s
	}
	if !c.Ready {
		s.Title, s.Verdict, s.Detail = "cluster not ready", Blocks, "not ready"
	}
	return s
}

func clusterPausedStep(c *selection.Cluster) Step {
	if sc, ok := c.Object.(*libv1beta1.SveltosCluster); ok && c.Paused && !sc.Spec.Paused {
		detail := fmt.Sprintf("%s %s is outside its spec.activeWindow: nothing is deployed to or withdrawn from it", c.ID.Kind(), c.ID.Key())
		if sc.Status.NextUnpause != nil {
			detail += "; the window opens " + sc.Status.NextUnpause.UTC().Format(time.RFC3339)
		}
		return Step{Check: CheckClusterPaused, Verdict: Blocks, Title: "cluster outside its active window", Detail: detail}
	}
	if c.Paused {
		return Step{Check: CheckClusterPaused, Verdict: Blocks, Title: "cluster paused",
			Detail: fmt.Sprintf("%s %s has spec.paused: nothing is deployed to or withdrawn from it", c.ID.Kind(), c.ID.Key())}
	}
	return Step{Check: CheckClusterPaused, Verdict: Passes, Title: "cluster not paused", Detail: "spec.paused is not set"}
}

func shardStep(c *selection.Cluster) Step {
	if c.Object != nil {
		if k := c.Object.GetAnnotations()[libv1beta1.ShardAnnotation]; k != "" {
			return Step{Check: CheckShard, Verdict: Passes, Title: "shard " + k,
				Detail: fmt.Sprintf("annotated %s=%s: only a manager started with --shard-key %s deploys to it", libv1beta1.ShardAnnotation, k, k)}
		}
	}
	return Step{Check: CheckShard, Verdict: Passes, Title: "not sharded",
		Detail: "no " + libv1beta1.ShardAnnotation + " annotation: the manager started without --shard-key deploys to it"}
}
