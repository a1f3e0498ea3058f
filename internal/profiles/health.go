package profiles

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/health"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// Health gates (validateHealths). A deployed feature whose checks do not all
// pass stays Provisioning, its hash kept (nothing is deployed again), with the
// failing check's message; it becomes Provisioned when they pass. The objects
// checked are read from shared watches of the cluster (agentless, no polling):
// any change of them brings the summary back.

// healthHolderPrefix starts the names under which summaries hold the watches of
// their health checks ("health:<namespace>/<name>").
const healthHolderPrefix = "health:"

func healthHolder(s *configv1beta1.ClusterSummary) string {
	return healthHolderPrefix + s.Namespace + "/" + s.Name
}

// deployed reports whether a feature's current inputs are deployed: Provisioned,
// or Provisioning with a hash (deployed, waiting for its health checks).
func deployed(fs *configv1beta1.FeatureSummary) bool {
	return fs.Status == libv1beta1.FeatureStatusProvisioned ||
		fs.Status == libv1beta1.FeatureStatusProvisioning && len(fs.Hash) > 0
}

// healthEvent brings back the summaries holding a watch that saw a change (or
// synced, or lost its connection and must be watched again): for their
// validateHealths or the gates of checks.go.
func (r *SummaryReconciler) healthEvent(ev clusters.WatchEvent) {
	for _, h := range ev.Holders {
		if key, ok := holderSummary(h); ok {
			r.requeue(key)
		}
	}
}

// checkHealth evaluates the health checks of every deployed feature of the
// summary and records the outcome in the feature's status. A check that does
// not compile fails the feature (permanently, until the profile changes).
func (r *SummaryReconciler) checkHealth(ctx context.Context, s *configv1beta1.ClusterSummary, cluster selection.Cluster, applied map[deployer.ObjectRef]deployer.Version) error {
	spec := &s.Spec.ClusterProfileSpec
	holder := healthHolder(s)
	keep := map[clusters.WatchKey]bool{}
	if len(spec.ValidateHealths) == 0 || spec.SyncMode == libv1beta1.SyncModeDryRun {
		if _, held := r.healthHeld.LoadAndDelete(holder); held {
			r.health.Release(holder, keep)
		}
		return nil
	}
	r.healthHeld.Store(holder, struct{}{})
	defer r.health.Release(holder, keep)
	var errs []error
	for i := range s.Status.FeatureSummaries {
		fs := &s.Status.FeatureSummaries[i]
		checks, err := health.CompileAll(spec.ValidateHealths, fs.FeatureID)
		if err != nil {
			_, _ = r.fail(s, fs, renderError{err})
			continue
		}
		if len(checks) == 0 || !deployed(fs) {
			continue
		}
		unhealthy, err := r.evaluateChecks(ctx, s, cluster.ID, holder, checks, keep, hex.EncodeToString(fs.Hash), applied)
		switch {
		case err != nil:
			if fs.FailureMessage == nil || *fs.FailureMessage != err.Error() {
				r.event(s, "Warning", "HealthCheckError", err.Error())
			}
			fs.Status, fs.FailureMessage = libv1beta1.FeatureStatusProvisioning, ptr(err.Error())
			errs = append(errs, err)
		case unhealthy != "":
			if fs.Status == libv1beta1.FeatureStatusProvisioned {
				r.event(s, "Warning", "Unhealthy", unhealthy)
			}
			fs.Status, fs.FailureMessage = libv1beta1.FeatureStatusProvisioning, ptr(unhealthy)
		default:
			if fs.Status != libv1beta1.FeatureStatusProvisioned {
				r.event(s, "Normal", "Healthy", fmt.Sprintf("%s: every health check passes", fs.FeatureID))
			}
			fs.Status, fs.FailureMessage = libv1beta1.FeatureStatusProvisioned, nil
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// evaluateChecks runs the checks of the summary in order: over the watched
// objects of the cluster, with the values of their metricQueries
// (health_metrics.go), or by the outcome of their Job (health_jobs.go; run
// identifies the deployed content the Job checks). The message of the first
// that fails, "" when all pass. applied are the objects this reconcile just
// applied, with their versions: a check does not pass on a watch that has not
// seen them yet.
func (r *SummaryReconciler) evaluateChecks(ctx context.Context, s *configv1beta1.ClusterSummary, cluster libv1beta1.ClusterID, holder string, checks []*health.Check, keep map[clusters.WatchKey]bool, run string, applied map[deployer.ObjectRef]deployer.Version) (string, error) {
	for _, c := range checks {
		if c.Job != nil {
			failing, err := r.evaluateJobCheck(ctx, s, cluster, holder, c, keep, run)
			if err != nil || failing != "" {
				return failing, err
			}
			continue
		}
		var metrics map[string]any
		if c.Metrics != nil {
			r.pollMetrics(ctx)
			var err error
			if metrics, err = r.queryMetrics(ctx, s, c); err != nil {
				return "", err
			}
		}
		var objs []unstructured.Unstructured
		if c.ReadsObjects() {
			key := clusters.WatchKey{Cluster: cluster, GVK: c.GVK}
			if c.Selector != nil {
				key.LabelSelector = c.Selector.String()
			}
			keep[key] = true
			synced, err := r.health.Watch(ctx, key, holder)
			if err != nil {
				return "", fmt.Errorf("health check %s: %w", c.Name, err)
			}
			if !synced {
				return fmt.Sprintf("health check %s: waiting for the watch of %s in cluster %s to sync", c.Name, c.GVK.Kind, cluster), nil
			}
			if objs, err = r.health.List(key, c.Namespace); err != nil {
				return "", fmt.Errorf("health check %s: %w", c.Name, err)
			}
			if behind := notYetObserved(objs, applied); behind != "" {
				// The watch is behind the apply (it would judge the object as it was):
				// its event, or this, brings the summary back.
				askComeBack(ctx, time.Second)
				return fmt.Sprintf("health check %s: waiting for the watch to observe %s as just applied", c.Name, behind), nil
			}
		}
		if res := c.EvaluateWith(objs, metrics); !res.Healthy {
			return res.Message, nil
		}
	}
	return "", nil
}

// notYetObserved names the first of objs (as a watch holds them) that this
// reconcile applied at a newer resourceVersion than the watch has seen; "" when
// none. resourceVersions are compared as the numbers the API server gives
// them; one that is not a number is taken as observed.
func notYetObserved(objs []unstructured.Unstructured, applied map[deployer.ObjectRef]deployer.Version) string {
	for i := range objs {
		o := &objs[i]
		v, ok := applied[deployer.ObjectRef{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}]
		if !ok {
			continue
		}
		seen, err1 := strconv.ParseUint(o.GetResourceVersion(), 10, 64)
		wrote, err2 := strconv.ParseUint(v.ResourceVersion, 10, 64)
		if err1 == nil && err2 == nil && seen < wrote {
			return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
		}
	}
	return ""
}
