package profiles

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/health"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// Deploy and withdrawal gates: preDeployChecks, preDeleteChecks and
// postDeleteChecks. They are evaluated like validateHealths (internal/health)
// over objects read from shared watches of the cluster; each summary holds the
// watches of its gates under a holder of its own, so that a change of a checked
// object brings it back (healthEvent).

const (
	// preDeployHolderPrefix starts the names under which summaries hold the
	// watches of their preDeployChecks.
	preDeployHolderPrefix = "predeploy:"
	// withdrawalHolderPrefix starts the names under which deleted summaries hold
	// the watches of their preDeleteChecks and postDeleteChecks.
	withdrawalHolderPrefix = "withdrawal:"
)

// holderSummary is the summary a holder of the checks' watches stands for.
func holderSummary(holder string) (types.NamespacedName, bool) {
	for _, prefix := range []string{healthHolderPrefix, preDeployHolderPrefix, withdrawalHolderPrefix} {
		if rest, ok := strings.CutPrefix(holder, prefix); ok {
			ns, name, ok := strings.Cut(rest, "/")
			return types.NamespacedName{Namespace: ns, Name: name}, ok
		}
	}
	return types.NamespacedName{}, false
}

func checksHolder(prefix string, s *configv1beta1.ClusterSummary) string {
	return prefix + s.Namespace + "/" + s.Name
}

// releaseChecks drops every watch the summary holds under the holder prefix.
func (r *SummaryReconciler) releaseChecks(prefix string, s *configv1beta1.ClusterSummary) {
	holder := checksHolder(prefix, s)
	if _, held := r.healthHeld.LoadAndDelete(holder); held {
		r.health.Release(holder, nil)
	}
}

// wantedFeatures are the features the summary's spec deploys.
func wantedFeatures(spec *configv1beta1.Spec) []libv1beta1.FeatureID {
	var out []libv1beta1.FeatureID
	if len(spec.PolicyRefs) > 0 {
		out = append(out, libv1beta1.FeatureResources)
	}
	if len(spec.KustomizationRefs) > 0 {
		out = append(out, libv1beta1.FeatureKustomize)
	}
	if len(spec.HelmCharts) > 0 {
		out = append(out, libv1beta1.FeatureHelm)
	}
	return out
}

// preDeployGate evaluates the preDeployChecks of every feature of the summary
// that has nothing deployed yet (first deployment, or after a failure) and
// returns the features that must wait: their status is Provisioning with the
// failing check's message (Failed when a check does not compile). A feature
// already deployed is not held back. preDeleteChecks or postDeleteChecks that
// do not compile fail (and hold back) every feature.
func (r *SummaryReconciler) preDeployGate(ctx context.Context, s *configv1beta1.ClusterSummary, cluster selection.Cluster) (map[libv1beta1.FeatureID]bool, error) {
	spec := &s.Spec.ClusterProfileSpec
	// The withdrawal checks are asked only when the summary goes: one that does
	// not compile is reported now, before anything is deployed that it would
	// hold in the cluster.
	for _, list := range []struct {
		field  health.Field
		checks []libv1beta1.ValidateHealth
	}{{health.PreDeleteChecks, spec.PreDeleteChecks}, {health.PostDeleteChecks, spec.PostDeleteChecks}} {
		if _, err := health.CompileFor(list.field, list.checks, ""); err != nil {
			held := map[libv1beta1.FeatureID]bool{}
			for _, feature := range wantedFeatures(spec) {
				held[feature] = true
				_, _ = r.fail(s, featureSummary(s, feature), renderError{err})
			}
			return held, nil
		}
	}
	holder := checksHolder(preDeployHolderPrefix, s)
	keep := map[clusters.WatchKey]bool{}
	if len(spec.PreDeployChecks) == 0 || spec.SyncMode == libv1beta1.SyncModeDryRun {
		r.releaseChecks(preDeployHolderPrefix, s)
		return nil, nil
	}
	r.healthHeld.Store(holder, struct{}{})
	defer r.health.Release(holder, keep)
	held := map[libv1beta1.FeatureID]bool{}
	var errs []error
	for _, feature := range wantedFeatures(spec) {
		if fs := s.FeatureSummary(feature); fs != nil && len(fs.Hash) > 0 {
			continue // deployed: the gate was passed
		}
		checks, err := health.CompileFor(health.PreDeployChecks, spec.PreDeployChecks, feature)
		if err != nil {
			held[feature] = true
			_, _ = r.fail(s, featureSummary(s, feature), renderError{err})
			continue
		}
		if len(checks) == 0 {
			continue
		}
		failing, err := r.evaluateChecks(ctx, s, cluster.ID, holder, checks, keep, "", nil)
		if err == nil && failing == "" {
			continue
		}
		held[feature] = true
		msg := failing
		if err != nil {
			msg = err.Error()
			errs = append(errs, err)
		}
		msg = "waiting for preDeployChecks: " + msg
		fs := featureSummary(s, feature)
		if fs.FailureMessage == nil || *fs.FailureMessage != msg {
			r.event(s, corev1.EventTypeNormal, "PreDeployChecksPending", fmt.Sprintf("%s: %s", feature, msg))
		}
		fs.Status, fs.FailureMessage = libv1beta1.FeatureStatusProvisioning, &msg
	}
	return held, errors.Join(errs...)
}

// withdrawalChecks evaluates the summary's preDeleteChecks or postDeleteChecks
// (field) in its cluster: the message of the first that fails ("" when all
// pass, or when the cluster is gone). A check that does not compile is a
// failing check whose message is the compile error: withdrawal waits for the
// profile to be fixed. Errors (an unreachable cluster) are returned.
func (r *SummaryReconciler) withdrawalChecks(ctx context.Context, s *configv1beta1.ClusterSummary, field health.Field, list []libv1beta1.ValidateHealth) (string, error) {
	if len(list) == 0 {
		return "", nil
	}
	if _, err := r.Fleet.Get(ctx, s.Cluster()); apierrors.IsNotFound(err) {
		return "", nil // the cluster is gone: nothing to check
	}
	checks, err := health.CompileFor(field, list, "")
	if err != nil {
		return err.Error(), nil
	}
	holder := checksHolder(withdrawalHolderPrefix, s)
	r.healthHeld.Store(holder, struct{}{})
	// The watches stay held until the summary is let go (releaseChecks): the
	// postDeleteChecks follow the preDeleteChecks on the same objects, often.
	keep := map[clusters.WatchKey]bool{}
	failing, err := r.evaluateChecks(ctx, s, s.Cluster(), holder, checks, keep, "", nil)
	if err != nil {
		return "", fmt.Errorf("%s of ClusterSummary %s/%s: %w", field, s.Namespace, s.Name, err)
	}
	return failing, nil
}

// holdWithdrawal records why a deleted summary's withdrawal waits for its
// checks; the watches of the checked objects bring it back.
func (r *SummaryReconciler) holdWithdrawal(s *configv1beta1.ClusterSummary, field health.Field, failing string) {
	msg := fmt.Sprintf("withdrawal from cluster %s waits for %s: %s", s.Cluster(), field, failing)
	if s.Status.FailureMessage == nil || *s.Status.FailureMessage != msg {
		r.event(s, corev1.EventTypeWarning, "WithdrawalChecksFailing", msg)
	}
	s.Status.FailureMessage = &msg
}

// holdsDeployed reports whether the summary's status records something deployed.
func holdsDeployed(s *configv1beta1.ClusterSummary) bool {
	for _, d := range s.Status.DeployedGVKs {
		if len(d.DeployedGroupVersionKind) > 0 {
			return true
		}
	}
	for _, d := range s.Status.DeployedObjects {
		if len(d.Remote)+len(d.Local) > 0 {
			return true
		}
	}
	return len(s.Status.HelmReleaseSummaries) > 0
}

// markWithdrawn records that everything the summary deployed is withdrawn, so
// that a summary held by its postDeleteChecks neither asks its preDeleteChecks
// again nor withdraws again; its features say Removed.
func markWithdrawn(s *configv1beta1.ClusterSummary) {
	s.Status.DeployedGVKs, s.Status.DeployedObjects, s.Status.HelmReleaseSummaries = nil, nil, nil
	for i := range s.Status.FeatureSummaries {
		fs := &s.Status.FeatureSummaries[i]
		fs.Status, fs.Hash, fs.FailureMessage = libv1beta1.FeatureStatusRemoved, nil, nil
	}
}
