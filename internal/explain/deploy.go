package explain

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// deploySteps explain what happened once the profile selected the cluster:
// its ClusterSummary, maxUpdate, dependsOn, conflicts, each feature's last
// result and health checks.
func deploySteps(in *Input, ref configv1beta1.ProfileRef) []Step {
	spec := in.Profile.GetSpec()
	status := in.Profile.GetStatus()
	name := configv1beta1.ClusterSummaryNameFor(ref.Kind, ref.Name, in.ClusterID)
	s := in.Summary
	if s == nil {
		return []Step{{Check: CheckSummary, Verdict: Waits, Title: "ClusterSummary " + in.ClusterID.Namespace + "/" + name,
			Detail: "not created yet: the profile controller creates one per matching cluster (is the manager running?)"}}
	}
	var steps []Step
	sum := Step{Check: CheckSummary, Verdict: Passes, Title: "ClusterSummary " + key(s), Detail: "exists"}
	if !s.DeletionTimestamp.IsZero() {
		sum.Verdict, sum.Detail = Waits, "being deleted: what it deployed is being withdrawn; the profile controller creates it anew"
	} else if s.Status.FailureMessage != nil {
		sum.Detail = "exists; the summary controller reports: " + *s.Status.FailureMessage
	}
	steps = append(steps, sum, maxUpdateStep(spec, status, s, in))
	steps = append(steps, dependsOnSteps(spec, s, in)...)

	tier := deployer.TierOrDefault(spec.Tier)
	for _, c := range Conflicts(s) {
		c := c
		detail := c.Message
		if c.Holder != "" {
			why := "at equal tiers the first owner keeps it"
			if deployer.TierOrDefault(c.HolderTier) < tier {
				why = "the lower tier wins"
			}
			detail = fmt.Sprintf("held by %s (tier %d); this profile has tier %d: %s", c.Holder, c.HolderTier, tier, why)
			if p, known := in.Holders[c.Holder]; known && p == nil {
				detail += fmt.Sprintf("; %s no longer exists: the next deployment takes the object", c.Holder)
			} else if known && deployer.TierOrDefault(p.GetSpec().Tier) != deployer.TierOrDefault(c.HolderTier) {
				detail += fmt.Sprintf("; %s now has tier %d", c.Holder, deployer.TierOrDefault(p.GetSpec().Tier))
			}
		}
		steps = append(steps, Step{Check: CheckConflict, Verdict: Blocks, Title: fmt.Sprintf("%s: conflict on %s", c.Feature, c.Object),
			Detail: detail, Conflict: &c})
	}

	steps = append(steps, featureSteps(spec, s)...)
	if len(spec.ValidateHealths) > 0 {
		steps = append(steps, healthStep(spec, s))
	}
	return steps
}

// healthStep explains validateHealths: a feature deployed (it has a hash) but
// still Provisioning waits for its health checks, with the failing check's
// message; Provisioned features passed them.
func healthStep(spec *configv1beta1.Spec, s *configv1beta1.ClusterSummary) Step {
	names := make([]string, 0, len(spec.ValidateHealths))
	for _, h := range spec.ValidateHealths {
		names = append(names, h.Name)
	}
	st := Step{Check: CheckHealth, Verdict: Passes, Title: "validateHealths " + strings.Join(names, ", ")}
	var waiting []string
	provisioned := len(s.Status.FeatureSummaries) > 0
	for _, fs := range s.Status.FeatureSummaries {
		if fs.Status == libv1beta1.FeatureStatusProvisioning && len(fs.Hash) > 0 {
			w := string(fs.FeatureID) + " deployed, its health checks not passing yet"
			if fs.FailureMessage != nil {
				w += ": " + *fs.FailureMessage
			}
			waiting = append(waiting, w)
		}
		provisioned = provisioned && fs.Status == libv1beta1.FeatureStatusProvisioned
	}
	switch {
	case len(waiting) > 0:
		st.Verdict, st.Detail = Waits, strings.Join(waiting, "; ")
	case provisioned:
		st.Detail = "every feature is provisioned"
	default:
		st.Verdict, st.Detail = NotApplicable, "evaluated once the features are deployed"
	}
	return st
}

// maxUpdateStep says whether the cluster is at the current spec, being
// updated, or queued behind maxUpdate.
func maxUpdateStep(spec *configv1beta1.Spec, status *configv1beta1.Status, s *configv1beta1.ClusterSummary, in *Input) Step {
	st := Step{Check: CheckMaxUpdate, Verdict: NotApplicable, Title: "no maxUpdate", Detail: "every matching cluster is updated at once"}
	if spec.MaxUpdate != nil {
		st.Title = "maxUpdate " + spec.MaxUpdate.String()
	}
	var updating, updated int
	inUpdating := false
	if status.UpdatingClusters != nil {
		updating = len(status.UpdatingClusters.Clusters)
		for _, r := range status.UpdatingClusters.Clusters {
			inUpdating = inUpdating || sameCluster(r, in.ClusterID)
		}
	}
	if status.UpdatedClusters != nil {
		updated = len(status.UpdatedClusters.Clusters)
	}
	current := equality.Semantic.DeepEqual(s.Spec.ClusterProfileSpec, *spec)
	switch {
	case current && spec.MaxUpdate != nil:
		st.Verdict = Passes
		st.Detail = fmt.Sprintf("the cluster's summary carries the current spec (%d of %d matching clusters updated, %d updating)",
			updated, len(status.MatchingClusterRefs), updating)
	case current:
	case inUpdating:
		st.Verdict = Waits
		st.Detail = "the cluster is being moved to the changed spec"
	case spec.MaxUpdate != nil:
		st.Verdict = Waits
		var being []corev1.ObjectReference
		if status.UpdatingClusters != nil {
			being = status.UpdatingClusters.Clusters
		}
		st.Detail = fmt.Sprintf("queued: the cluster keeps the previous spec until the %d clusters being updated (%s) are provisioned",
			updating, clusterList(being))
	default:
		st.Verdict = Waits
		st.Detail = "the cluster's summary carries an older spec: the profile controller has not caught up yet"
	}
	return st
}

// dependsOnSteps explain each dependsOn profile: the summary controller
// waits until its ClusterSummary on this cluster has every feature Provisioned.
func dependsOnSteps(spec *configv1beta1.Spec, s *configv1beta1.ClusterSummary, in *Input) []Step {
	if len(spec.DependsOn) == 0 {
		return []Step{{Check: CheckDependsOn, Verdict: NotApplicable, Title: "no dependsOn", Detail: "waits for no other profile"}}
	}
	reported := ""
	if s.Status.Dependencies != nil {
		reported = "; the summary reports: " + *s.Status.Dependencies
	}
	var steps []Step
	for _, dep := range spec.DependsOn {
		st := Step{Check: CheckDependsOn, Title: "dependsOn " + dep}
		d := in.Dependencies[dep]
		switch {
		case d == nil:
			st.Verdict = Waits
			st.Detail = fmt.Sprintf("%s %s has no ClusterSummary on this cluster (it does not exist, does not match the cluster, or has not been deployed yet)%s", ProfileRef(in.Profile).Kind, dep, reported)
		default:
			var pending []string
			for _, fs := range d.Status.FeatureSummaries {
				if fs.Status != libv1beta1.FeatureStatusProvisioned {
					p := string(fs.FeatureID) + " " + string(fs.Status)
					if fs.Status == "" {
						p = string(fs.FeatureID) + " not deployed yet"
					}
					if fs.FailureMessage != nil {
						p += ": " + *fs.FailureMessage
					}
					pending = append(pending, p)
				}
			}
			if len(pending) == 0 {
				st.Verdict, st.Detail = Passes, "provisioned on this cluster (ClusterSummary "+key(d)+")"
			} else {
				st.Verdict = Waits
				st.Detail = "not provisioned on this cluster yet: " + strings.Join(pending, "; ") + reported
			}
		}
		steps = append(steps, st)
	}
	return steps
}

// featureSteps give each feature's last result, with its failure message and
// consecutive failures; a failure made only of conflicts is left to the
// conflict steps.
func featureSteps(spec *configv1beta1.Spec, s *configv1beta1.ClusterSummary) []Step {
	if len(spec.PolicyRefs) == 0 && len(spec.HelmCharts) == 0 && len(spec.KustomizationRefs) == 0 {
		return []Step{{Check: CheckFeature, Verdict: NotApplicable, Title: "nothing to deploy",
			Detail: "the profile has no policyRefs, helmCharts or kustomizationRefs"}}
	}
	if len(s.Status.FeatureSummaries) == 0 {
		return []Step{{Check: CheckFeature, Verdict: Waits, Title: "not deployed yet",
			Detail: "the summary reports no feature yet: the summary controller has not deployed it"}}
	}
	var steps []Step
	if s.Status.ObservedGeneration != s.Generation {
		steps = append(steps, Step{Check: CheckFeature, Verdict: Waits, Title: "deploying the current spec",
			Detail: fmt.Sprintf("the feature statuses describe generation %d of the ClusterSummary, its spec is at generation %d",
				s.Status.ObservedGeneration, s.Generation)})
	}
	for _, fs := range s.Status.FeatureSummaries {
		st := Step{Check: CheckFeature, Title: string(fs.FeatureID) + " " + strings.ToLower(string(fs.Status))}
		switch fs.Status {
		case libv1beta1.FeatureStatusProvisioned:
			st.Verdict = Passes
			st.Detail = "deployed"
			if fs.LastAppliedTime != nil {
				st.Detail += " at " + fs.LastAppliedTime.UTC().Format(time.RFC3339)
			}
			for _, r := range fs.SourceRevisions {
				st.Detail += fmt.Sprintf("; %s %s/%s at %s", r.Kind, r.Namespace, r.Name, r.Revision)
			}
		case libv1beta1.FeatureStatusFailed, libv1beta1.FeatureStatusFailedNonRetriable:
			if fs.FailureMessage != nil && onlyConflicts(*fs.FailureMessage) {
				continue
			}
			st.Verdict = Blocks
			st.Detail = fmt.Sprintf("failed %d time(s) in a row", max(fs.ConsecutiveFailures, 1))
			if fs.FailureMessage != nil {
				st.Detail += ": " + *fs.FailureMessage
			}
		case libv1beta1.FeatureStatusRemoving, libv1beta1.FeatureStatusRemoved:
			st.Verdict = Blocks
			st.Detail = "withdrawn from the cluster"
		default:
			st.Title = string(fs.FeatureID) + " provisioning"
			st.Verdict = Waits
			st.Detail = "being deployed"
			if len(fs.Hash) > 0 {
				st.Detail = "deployed, waiting for its health checks"
			}
			if fs.FailureMessage != nil {
				st.Detail += "; last failure: " + *fs.FailureMessage
			}
		}
		steps = append(steps, st)
	}
	return steps
}
