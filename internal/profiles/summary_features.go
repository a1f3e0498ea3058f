package profiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// featureRun is one reconcile's run of a summary's features: what every
// feature reads, and the reconcile's one status writer.
type featureRun struct {
	s       *configv1beta1.ClusterSummary
	cluster selection.Cluster
	prof    configv1beta1.ProfileRef
	// drifted: objects of this summary drifted and are re-applied.
	drifted bool
	// extraPatches are the patches of spec.patchesFrom, applied (and hashed)
	// after spec.patches by every feature (patches_from.go).
	extraPatches []libv1beta1.Patch
	// status writes the summary's status; its Flush shows progress before a
	// long step, the deferred write in Reconcile follows.
	status *conditions.StatusPatcher
	// followUps are the summaries to bring back once this one's status is
	// written (a profile that lost a Helm release to this one).
	followUps *[]types.NamespacedName
	// applied are the objects this run applied to the summary's cluster, with
	// their versions: health checks wait until their watch has seen them.
	applied map[deployer.ObjectRef]deployer.Version
}

// spec is the summary's spec as its features deploy it: spec.patches followed
// by the patches of spec.patchesFrom (a copy when there are any; the summary's
// own spec is left as stored).
func (run *featureRun) spec() *configv1beta1.Spec {
	spec := &run.s.Spec.ClusterProfileSpec
	if len(run.extraPatches) == 0 {
		return spec
	}
	out := *spec
	out.Patches = append(slices.Clip(spec.Patches), run.extraPatches...)
	return &out
}

// writeProgress writes the summary's status now, through the reconcile's status
// writer. A summary changed since the reconcile read it is a staleSummary.
func (run *featureRun) writeProgress(ctx context.Context) error {
	if err := run.status.Flush(ctx); err != nil {
		if apierrors.IsConflict(err) {
			return staleSummary{err}
		}
		return err
	}
	return nil
}

// staleSummary is a status write refused because the summary changed since the
// reconcile read it (its status is written on condition of its resourceVersion,
// so a stale copy never replaces the record of deployed objects): nothing is
// applied after it and the reconcile runs again from the newer copy.
type staleSummary struct{ err error }

func (e staleSummary) Error() string { return e.err.Error() }
func (e staleSummary) Unwrap() error { return e.err }

// runFeatures deploys the features of a summary — Resources, Kustomize, Helm —
// independently: a failing one does not stop the others. The shortest requeue
// asked for wins; errors are joined.
func (r *SummaryReconciler) runFeatures(ctx context.Context, run *featureRun) (ctrl.Result, error) {
	s, cluster := run.s, run.cluster
	// Drift is repaired only for profiles that ask for it: the watch of a cluster
	// also sees objects of other profiles deployed there.
	run.drifted = r.drift.takeDrifted(client.ObjectKeyFromObject(s)) &&
		s.Spec.ClusterProfileSpec.SyncMode == libv1beta1.SyncModeContinuousWithDriftDetection
	var result ctrl.Result
	// patchesFrom join the spec's patches (patches_from.go); preDeployChecks hold
	// back the features they gate until they pass (checks.go).
	held, err := r.addPatchesFrom(ctx, run)
	if held == nil {
		held, err = r.preDeployGate(ctx, s, cluster)
	}
	errs := []error{err}
	for _, f := range []struct {
		id     libv1beta1.FeatureID
		deploy func() (ctrl.Result, error)
	}{
		{libv1beta1.FeatureResources, func() (ctrl.Result, error) { return r.deployResources(ctx, run) }},
		{libv1beta1.FeatureKustomize, func() (ctrl.Result, error) { return r.deployKustomize(ctx, run) }},
		{libv1beta1.FeatureHelm, func() (ctrl.Result, error) { return r.deployHelm(ctx, run) }},
	} {
		if held[f.id] {
			continue
		}
		res, err := f.deploy()
		errs = append(errs, err)
		if res.RequeueAfter > 0 && (result.RequeueAfter == 0 || res.RequeueAfter < result.RequeueAfter) {
			result.RequeueAfter = res.RequeueAfter
		}
	}
	errs = append(errs, r.checkHealth(ctx, s, cluster, run.applied))
	s.Status.ObservedGeneration = s.Generation
	return result, errors.Join(errs...)
}

// objectSource yields the objects of one object feature (Resources, Kustomize)
// for one cluster.
type objectSource interface {
	// hash covers everything the objects depend on.
	hash() ([]byte, error)
	// render produces the objects, split by destination.
	render() (remote, local []deployer.Desired, err error)
	// patches are the profile's patches, rendered for the cluster.
	patches() ([]libv1beta1.Patch, error)
}

// recordRevisions records, on a successful deploy, the Flux source revisions the
// feature's objects came from.
func recordRevisions(fs *configv1beta1.FeatureSummary, in objectSource) {
	if rs, ok := in.(interface {
		sourceRevisions() []configv1beta1.SourceRevision
	}); ok {
		fs.SourceRevisions = rs.sourceRevisions()
	}
}

// deployResources runs the Resources feature (policyRefs).
func (r *SummaryReconciler) deployResources(ctx context.Context, run *featureRun) (ctrl.Result, error) {
	result, err := r.deployObjects(ctx, run, libv1beta1.FeatureResources, len(run.s.Spec.ClusterProfileSpec.PolicyRefs) > 0,
		func() (objectSource, error) { return r.collect(ctx, run) })
	return refetchRemote(run.s, result), err
}

// deployObjects runs one object feature: read its inputs, skip everything when
// their hash is unchanged, else render and apply through the deployer (remote
// objects into the cluster, Local ones into the management cluster), clean up
// what is no longer desired and record the result.
func (r *SummaryReconciler) deployObjects(ctx context.Context, run *featureRun, feature libv1beta1.FeatureID, wanted bool, collect func() (objectSource, error)) (ctrl.Result, error) {
	s, cluster, prof, drifted := run.s, run.cluster, run.prof, run.drifted
	spec := &s.Spec.ClusterProfileSpec
	previousGVKs := deployedGVKs(s, feature)
	if !wanted && len(previousGVKs) == 0 && !recordsAny(s, feature) {
		removeFeature(s, feature)
		removeRecord(s, feature)
		return ctrl.Result{}, nil
	}
	fs := featureSummary(s, feature)
	if spec.SyncMode == libv1beta1.SyncModeOneTime && fs.Status == libv1beta1.FeatureStatusProvisioned {
		return ctrl.Result{}, nil
	}
	in, err := collect()
	if err != nil {
		return r.fail(s, fs, err)
	}
	hash, err := in.hash()
	if err != nil {
		return ctrl.Result{}, err
	}
	if bytes.Equal(fs.Hash, hash) && deployed(fs) && !drifted {
		// Nothing changed: no write to the managed cluster. A new revision of a Flux
		// source with the same content is what is deployed: record it. Drift
		// detection keeps watching what was deployed — after a manager restart or a
		// lost connection this is where the watch comes back (a no-op when it runs).
		recordRevisions(fs, in)
		if spec.SyncMode == libv1beta1.SyncModeContinuousWithDriftDetection && len(previousGVKs) > 0 {
			if err := r.drift.watch(ctx, cluster.ID, previousGVKs); err != nil {
				return r.fail(s, fs, err)
			}
		}
		return ctrl.Result{}, nil
	}
	remote, local, err := in.render()
	if err != nil {
		return r.fail(s, fs, err)
	}
	patches, err := in.patches()
	if err != nil {
		return r.fail(s, fs, err)
	}
	if fs.Status == libv1beta1.FeatureStatusProvisioned && spec.SyncMode != libv1beta1.SyncModeDryRun {
		// New content for a provisioned feature: it is Provisioning until every
		// object is applied, and says so now — not only once the apply is done.
		fs.Status = libv1beta1.FeatureStatusProvisioning
		if err := run.writeProgress(ctx); err != nil {
			return ctrl.Result{}, err
		}
		fs = featureSummary(s, feature) // the write replaced the status with the server's copy
	}
	started := time.Now()
	var conflicts int
	defer func() {
		r.Metrics.ObserveDeploy(string(feature), time.Since(started), ptrErr(fs))
		r.Metrics.AddConflicts(string(feature), conflicts)
	}()

	tenant, err := r.tenantOf(ctx, prof)
	if err != nil {
		return r.fail(s, fs, err)
	}
	owner := summaryOwner(prof, s)
	base := deployer.Request{
		Owner: owner, Feature: feature,
		ContinueOnConflict: spec.ContinueOnConflict, ContinueOnError: spec.ContinueOnError,
		DryRun:      spec.SyncMode == libv1beta1.SyncModeDryRun,
		ExtraLabels: spec.ExtraLabels, ExtraAnnotations: spec.ExtraAnnotations,
		Patches: patches, DriftExclusions: spec.DriftExclusions,
		Reapply: drifted, // a drifted object carries our hash but not our content
	}
	var deployed []deployer.ObjectRef
	var reports []configv1beta1.ResourceReport
	type target struct {
		cluster libv1beta1.ClusterID
		objects []deployer.Desired
	}
	clusterKey := cluster.ID
	targets := []target{{clusterKey, remote}, {r.ManagementCluster, local}}
	if clusterKey == r.ManagementCluster {
		// Remote and Local are the same cluster: one pass, or the second would
		// clean up what the first just deployed.
		targets = []target{{clusterKey, append(remote, local...)}}
	}
	if tenant != nil && !base.DryRun {
		// A tenant's profile deploys everything or nothing.
		for _, target := range targets {
			if err := r.checkTenantRights(ctx, *tenant, target.cluster, base, target.objects); err != nil {
				return r.fail(s, fs, err)
			}
		}
	}
	// What this feature deployed last time comes from the record. A summary
	// written by an older Tugboat has none: every side is listed once, before
	// anything is applied, so that the record, once written, holds both sides
	// even when the apply on one of them fails.
	_, hasRecord := recordOf(s, feature)
	var listed [][]deployer.ObjectRef
	if !hasRecord {
		for _, target := range targets {
			c, err := r.clientAs(ctx, target.cluster, tenant)
			if err != nil {
				return r.fail(s, fs, err)
			}
			owned, err := deployer.Owned(ctx, c, owner, feature, previousGVKs)
			if err != nil {
				return r.fail(s, fs, err)
			}
			listed = append(listed, owned)
		}
		if !base.DryRun {
			for i, owned := range listed {
				objs, _ := withRefs(nil, owned)
				setRecorded(s, feature, i > 0, objs)
			}
		}
	}
	for i, target := range targets {
		local := i > 0 // the management cluster's side of the record
		c, err := r.clientAs(ctx, target.cluster, tenant)
		if err != nil {
			return r.fail(s, fs, err)
		}
		previous := recordedRefs(recorded(s, feature, local))
		if listed != nil {
			previous = listed[i]
		}
		if len(target.objects) == 0 && len(previous) == 0 {
			continue
		}
		req := base
		req.Objects, req.Previous = target.objects, previous
		// Recorded objects whose content changed are applied without reading them.
		req.Recorded = recordedVersions(recorded(s, feature, local))
		req.BeforeWrite = func(ctx context.Context, refs []deployer.ObjectRef) error {
			return run.recordAhead(ctx, feature, local, previous, refs)
		}
		res, err := r.Deployer.Apply(ctx, c, req)
		fs = featureSummary(s, feature) // a progress write replaces the status with the server's copy
		conflicts += len(res.Conflicts)
		deployed = append(deployed, res.Deployed...)
		reports = append(reports, res.Report...)
		if !base.DryRun {
			if err != nil {
				// Everything recorded ahead stays (an object that failed may
				// exist), and so does what was deployed before; what stale
				// cleanup deleted is gone.
				objs, _ := withRefs(recorded(s, feature, local), previous)
				objs, _ = withRefs(objs, res.Deployed)
				setRecorded(s, feature, local, withoutRefs(withVersionsOf(objs, res), res.Removed))
			} else {
				setRecorded(s, feature, local, deployedRecord(res))
			}
		}
		if err != nil {
			return r.fail(s, fs, err)
		}
		if target.cluster == cluster.ID {
			if run.applied == nil {
				run.applied = map[deployer.ObjectRef]deployer.Version{}
			}
			maps.Copy(run.applied, res.Versions)
		}
		if spec.Reloader && !base.DryRun {
			// Workloads mounting the ConfigMaps/Secrets just deployed roll (reloader.go).
			if err := reload(ctx, c, res.Deployed); err != nil {
				return r.fail(s, fs, fmt.Errorf("cluster %s: %w", target.cluster, err))
			}
		}
	}
	if base.DryRun {
		return ctrl.Result{}, r.writeReport(ctx, s, prof, feature, reports)
	}
	setDeployedGVKs(s, feature, deployer.DeployedGVKs(deployed))
	if spec.SyncMode == libv1beta1.SyncModeContinuousWithDriftDetection {
		if err := r.drift.watch(ctx, cluster.ID, deployedGVKs(s, feature)); err != nil {
			return r.fail(s, fs, err)
		}
	}
	now := metav1.Now()
	if ev, ok := in.(interface{ eventTime() time.Time }); ok {
		// Observed once per event: the first deploy after the trigger acted on it.
		if t := ev.eventTime(); !t.IsZero() && (fs.LastAppliedTime == nil || t.After(fs.LastAppliedTime.Time)) {
			r.Metrics.ObserveEventToDeploy(now.Sub(t))
		}
	}
	fs.Status = libv1beta1.FeatureStatusProvisioned
	fs.Hash = hash
	recordRevisions(fs, in)
	fs.FailureMessage = nil
	fs.ConsecutiveFailures = 0
	fs.LastAppliedTime = &now
	r.event(s, corev1.EventTypeNormal, "Deployed", fmt.Sprintf("%s: %d objects deployed", feature, len(deployed)))
	return ctrl.Result{}, nil
}

// recordAhead adds to the record of feature, on one side, the objects an apply
// is about to write, with previous (what a summary without a record listed), and
// writes the summary's status at once when that adds anything: a manager stopped
// during the apply still knows what it may have deployed. An apply of objects
// already recorded writes nothing more.
func (run *featureRun) recordAhead(ctx context.Context, feature libv1beta1.FeatureID, local bool, previous, refs []deployer.ObjectRef) error {
	s := run.s
	objs, grew := withRefs(recorded(s, feature, local), previous)
	objs, more := withRefs(objs, refs)
	if !grew && !more {
		return nil
	}
	setRecorded(s, feature, local, objs)
	return run.writeProgress(ctx)
}

// fail records a failed feature. Bad input waits for a change (the watches bring
// the summary back); other errors are retried with backoff.
func (r *SummaryReconciler) fail(s *configv1beta1.ClusterSummary, fs *configv1beta1.FeatureSummary, err error) (ctrl.Result, error) {
	if errors.As(err, new(staleSummary)) {
		// Not a failure of the feature: nothing was applied, run again from the
		// summary as it is now.
		return ctrl.Result{Requeue: true}, nil
	}
	fs.Status = libv1beta1.FeatureStatusFailed
	fs.Hash = nil
	fs.FailureMessage = ptr(err.Error())
	fs.ConsecutiveFailures++
	r.event(s, corev1.EventTypeWarning, "DeployFailed", err.Error())
	if permanent(err) {
		return ctrl.Result{}, nil
	}
	if max := s.Spec.ClusterProfileSpec.MaxConsecutiveFailures; max != nil && fs.ConsecutiveFailures >= *max {
		// No more retries: the next attempt comes with a change of the profile,
		// what it references, or the cluster.
		fs.FailureMessage = ptr(fmt.Sprintf("%s (stopped retrying after %d consecutive failures, maxConsecutiveFailures: "+
			"a change of the profile, its references or the cluster retries)", err, fs.ConsecutiveFailures))
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, err
}

// permanent reports errors that a retry without a change cannot fix: bad input,
// a conflict with another profile, an object the API server refuses.
func permanent(err error) bool {
	var re renderError
	var ce *deployer.ConflictError
	return errors.As(err, &re) || errors.As(err, &ce) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)
}

func (r *SummaryReconciler) clientFor(ctx context.Context, cluster libv1beta1.ClusterID) (client.Client, error) {
	conn, err := r.Registry.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	return conn.Client()
}

// ptrErr is the failure of a feature as an error, for metrics.
func ptrErr(fs *configv1beta1.FeatureSummary) error {
	if fs.Status == libv1beta1.FeatureStatusFailed && fs.FailureMessage != nil {
		return errors.New(*fs.FailureMessage)
	}
	return nil
}
