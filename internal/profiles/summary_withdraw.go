package profiles

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/health"
)

// withdraw removes (or, with LeavePolicies, releases) what a deleted summary
// deployed, then lets it go. An unreachable cluster holds it back for at most
// withdrawGrace.
func (r *SummaryReconciler) withdraw(ctx context.Context, s *configv1beta1.ClusterSummary) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(s, SummaryFinalizer) {
		return ctrl.Result{}, nil
	}
	if cluster, err := r.Fleet.Get(ctx, s.Cluster()); err == nil && !r.Shard.Owns(cluster.Object) {
		return ctrl.Result{}, nil // the manager of the cluster's shard withdraws
	}
	r.releaseChecks(healthHolderPrefix, s)
	r.releaseChecks(preDeployHolderPrefix, s)
	spec := &s.Spec.ClusterProfileSpec
	leave := spec.StopMatchingBehavior == libv1beta1.LeavePolicies
	prof := profileOf(s)
	owner := summaryOwner(prof, s)
	// preDeleteChecks before anything is withdrawn, postDeleteChecks after
	// (checks.go); neither with LeavePolicies, which withdraws nothing.
	var err error
	if !leave && holdsDeployed(s) {
		var failing string
		if failing, err = r.withdrawalChecks(ctx, s, health.PreDeleteChecks, spec.PreDeleteChecks); err == nil && failing != "" {
			r.holdWithdrawal(s, health.PreDeleteChecks, failing)
			return ctrl.Result{}, nil
		}
	}
	if err == nil {
		err = r.withdrawFrom(ctx, s, owner, s.Cluster(), false, leave)
	}
	if err == nil {
		err = r.withdrawFrom(ctx, s, owner, r.ManagementCluster, true, leave)
	}
	if err == nil {
		err = r.withdrawHelm(ctx, s, leave)
	}
	if err == nil && !leave && len(spec.PostDeleteChecks) > 0 {
		markWithdrawn(s)
		var failing string
		if failing, err = r.withdrawalChecks(ctx, s, health.PostDeleteChecks, spec.PostDeleteChecks); err == nil && failing != "" {
			r.holdWithdrawal(s, health.PostDeleteChecks, failing)
			return ctrl.Result{}, nil
		}
	}
	if err == nil {
		// The Jobs its job checks ran (health_jobs.go) go with the summary,
		// whatever stopMatchingBehavior says: they are the checks', not the profile's.
		err = r.deleteHealthJobs(ctx, s)
	}
	if err != nil {
		if left := withdrawGrace - time.Since(s.DeletionTimestamp.Time); left > 0 {
			// Say so in status (the summary may stay for the whole grace period)
			// and try again soon, whatever the error backoff would say: the
			// cluster's return must not wait for a long backoff.
			msg := fmt.Sprintf("withdrawing from cluster %s: %v (retrying; released without withdrawing after %s)", s.Cluster(), err, withdrawGrace)
			s.Status.FailureMessage = ptr(msg)
			r.event(s, corev1.EventTypeWarning, "WithdrawFailed", msg)
			return ctrl.Result{RequeueAfter: min(withdrawRetry, left)}, nil
		}
		r.event(s, corev1.EventTypeWarning, "WithdrawAbandoned", fmt.Sprintf("cluster unreachable for %s, released without withdrawing: %v", withdrawGrace, err))
	}
	r.releaseChecks(withdrawalHolderPrefix, s)
	controllerutil.RemoveFinalizer(s, SummaryFinalizer)
	if err := r.Client.Update(ctx, s); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("removing finalizer of ClusterSummary %s/%s: %w", s.Namespace, s.Name, err)
	}
	return ctrl.Result{}, nil
}

// withdrawFrom withdraws the Resources and Kustomize objects of s from one
// cluster: the summary's (local false) or the management cluster (local true,
// the Local objects). Objects are deleted from the record, one request each,
// without listing; what is withdrawn leaves the record. A feature without a
// record (a summary written by an older Tugboat) is found by listing the kinds
// of deployedGVKs.
func (r *SummaryReconciler) withdrawFrom(ctx context.Context, s *configv1beta1.ClusterSummary, owner deployer.Owner, cluster libv1beta1.ClusterID, local, leave bool) error {
	features := []libv1beta1.FeatureID{libv1beta1.FeatureResources, libv1beta1.FeatureKustomize}
	anyDeployed := false
	for _, f := range features {
		if _, hasRecord := recordOf(s, f); hasRecord {
			anyDeployed = anyDeployed || len(recorded(s, f, local)) > 0
		} else {
			anyDeployed = anyDeployed || len(deployedGVKs(s, f)) > 0
		}
	}
	if !anyDeployed {
		return nil
	}
	if _, err := r.Fleet.Get(ctx, cluster); apierrors.IsNotFound(err) && cluster != r.ManagementCluster {
		return nil // the cluster is gone: nothing left to withdraw from
	}
	c, err := r.clientFor(ctx, cluster)
	if err != nil {
		return err
	}
	for _, f := range features {
		if _, hasRecord := recordOf(s, f); hasRecord {
			objs := recorded(s, f, local)
			if len(objs) == 0 {
				continue
			}
			done, err := r.Deployer.WithdrawRecorded(ctx, c, owner, f, recordedVersions(objs), leave)
			if err != nil {
				// What was withdrawn leaves the record; the rest is tried again.
				setRecorded(s, f, local, withoutRefs(objs, done))
				return fmt.Errorf("withdrawing %s from cluster %s: %w", f, cluster, err)
			}
			continue
		}
		gvks := deployedGVKs(s, f)
		if len(gvks) == 0 {
			continue
		}
		owned, err := deployer.OwnedObjects(ctx, c, owner, f, gvks)
		if err != nil {
			return err
		}
		if _, err := r.Deployer.WithdrawOwned(ctx, c, owner, f, owned, leave); err != nil {
			return fmt.Errorf("withdrawing %s from cluster %s: %w", f, cluster, err)
		}
	}
	return nil
}
