package profiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/metrics"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// SummaryFinalizer keeps a ClusterSummary until what it deployed is withdrawn.
const SummaryFinalizer = "config.projectsveltos.io/clustersummary"

const (
	referencedIndex = "tugboat.referenced"
	clusterIndex    = "tugboat.cluster"
	// withdrawGrace bounds how long a deleted summary waits for an unreachable
	// cluster before it lets go without withdrawing.
	withdrawGrace = 2 * time.Minute
	// maxEventMessage keeps event notes under the API server's limit.
	maxEventMessage = 1000
)

// SummaryReconciler deploys one profile into one cluster.
type SummaryReconciler struct {
	// Kubernetes options
	Client   client.Client
	Recorder events.EventRecorder
	Registry *clusters.Registry
	// ManagementCluster is the registry key of the management cluster, where
	// policyRefs with deploymentType Local go.
	ManagementCluster types.NamespacedName
	Deployer          *deployer.Deployer
	// Helm installs the helmCharts releases.
	Helm *helm.Client

	Concurrency int

	// Shard selects the clusters this manager deploys to.
	Shard clusters.Shard

	// APIReader reads past the cache where a stale read would decide wrongly
	// (who holds a Helm release); defaults to Client.
	APIReader client.Reader

	// Metrics records deploy durations and conflicts (nil: none).
	Metrics *metrics.Metrics

	// drift watches deployed objects of summaries with drift detection.
	drift *driftWatcher
}

// SetupWithManager watches summaries, the ConfigMaps/Secrets they reference,
// their clusters and their profiles.
func (r *SummaryReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	r.drift = newDriftWatcher(r.Registry)
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &configv1beta1.ClusterSummary{}, referencedIndex, func(o client.Object) []string {
		s := o.(*configv1beta1.ClusterSummary)
		ns := ""
		if s.Labels[configv1beta1.ProfileNameLabel] != "" {
			ns = s.Namespace
		}
		return referencedKeys(s, ns)
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &configv1beta1.ClusterSummary{}, clusterIndex, func(o client.Object) []string {
		s := o.(*configv1beta1.ClusterSummary)
		return []string{s.Spec.ClusterNamespace + "/" + s.Spec.ClusterName}
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("clustersummary").
		For(&configv1beta1.ClusterSummary{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.byReference("ConfigMap"))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.byReference("Secret"))).
		Watches(&libv1beta1.SveltosCluster{}, handler.EnqueueRequestsFromMapFunc(r.byCluster), builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(e event.UpdateEvent) bool {
				o, n := e.ObjectOld.(*libv1beta1.SveltosCluster), e.ObjectNew.(*libv1beta1.SveltosCluster)
				return !equalMaps(o.Labels, n.Labels) || selection.Eligible(o) != selection.Eligible(n) ||
					o.Spec.Paused != n.Spec.Paused || !equalMaps(o.Spec.Data, n.Spec.Data)
			},
		})).
		Watches(&configv1beta1.ClusterProfile{}, handler.EnqueueRequestsFromMapFunc(r.byProfile(configv1beta1.ClusterProfileKind)),
			builder.WithPredicates(predicate.AnnotationChangedPredicate{})).
		Watches(&configv1beta1.Profile{}, handler.EnqueueRequestsFromMapFunc(r.byProfile(configv1beta1.ProfileKind)),
			builder.WithPredicates(predicate.AnnotationChangedPredicate{})).
		WatchesRawSource(source.Channel(r.drift.events, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency}).
		Complete(r)
}

func (r *SummaryReconciler) byReference(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		return r.list(ctx, client.MatchingFields{referencedIndex: kind + "/" + o.GetNamespace() + "/" + o.GetName()})
	}
}

func (r *SummaryReconciler) byCluster(ctx context.Context, o client.Object) []reconcile.Request {
	return r.list(ctx, client.MatchingFields{clusterIndex: o.GetNamespace() + "/" + o.GetName()})
}

func (r *SummaryReconciler) byProfile(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		opts := []client.ListOption{client.MatchingLabels{configv1beta1.ProfileLabel(kind): o.GetName()}}
		if kind == configv1beta1.ProfileKind {
			opts = append(opts, client.InNamespace(o.GetNamespace()))
		}
		return r.list(ctx, opts...)
	}
}

func (r *SummaryReconciler) list(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	list := &configv1beta1.ClusterSummaryList{}
	if err := r.Client.List(ctx, list, opts...); err != nil {
		log.FromContext(ctx).Error(err, "listing ClusterSummaries")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// profileRef says which profile a summary belongs to.
type profileRef struct {
	kind, namespace, name string
}

func profileOf(s *configv1beta1.ClusterSummary) profileRef {
	if n := s.Labels[configv1beta1.ProfileNameLabel]; n != "" {
		return profileRef{kind: configv1beta1.ProfileKind, namespace: s.Namespace, name: n}
	}
	return profileRef{kind: configv1beta1.ClusterProfileKind, name: s.Labels[configv1beta1.ClusterProfileNameLabel]}
}

// referenceNamespace is where a Profile's references live; empty for a
// ClusterProfile, whose references default to the cluster's namespace.
func (p profileRef) referenceNamespace() string {
	if p.kind == configv1beta1.ProfileKind {
		return p.namespace
	}
	return ""
}

// owner is the deployer's identity of a summary: its profile, in its cluster.
func (p profileRef) owner(s *configv1beta1.ClusterSummary) deployer.Owner {
	return deployer.Owner{Kind: p.kind, Name: p.name, Tier: s.Spec.ClusterProfileSpec.Tier,
		Cluster: s.Spec.ClusterNamespace + "/" + s.Spec.ClusterName}
}

// Reconcile deploys (or withdraws) one profile in one cluster.
func (r *SummaryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	s := &configv1beta1.ClusterSummary{}
	if err := r.Client.Get(ctx, req.NamespacedName, s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !s.DeletionTimestamp.IsZero() {
		return r.withdraw(ctx, s)
	}
	if controllerutil.AddFinalizer(s, SummaryFinalizer) {
		if err := r.Client.Update(ctx, s); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to ClusterSummary %s: %w", req.NamespacedName, err)
		}
	}
	before := s.DeepCopy()
	// Summaries to bring back once this one's status is written (e.g. a profile
	// that lost a Helm release to this one must see it managed here).
	var followUps []types.NamespacedName
	result, err := r.deploy(ctx, s, &followUps)
	if perr := r.patchStatus(ctx, before, s); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	for _, key := range followUps {
		r.requeue(key)
	}
	return result, err
}

func (r *SummaryReconciler) deploy(ctx context.Context, s *configv1beta1.ClusterSummary, followUps *[]types.NamespacedName) (ctrl.Result, error) {
	prof := profileOf(s)
	if paused, err := r.profilePaused(ctx, prof); err != nil || paused {
		return ctrl.Result{}, err
	}
	cluster := &libv1beta1.SveltosCluster{}
	clusterKey := types.NamespacedName{Namespace: s.Spec.ClusterNamespace, Name: s.Spec.ClusterName}
	if err := r.Client.Get(ctx, clusterKey, cluster); err != nil {
		if apierrors.IsNotFound(err) {
			s.Status.FailureMessage = ptr(fmt.Sprintf("cluster %s not found", clusterKey))
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !selection.Eligible(cluster) {
		// Nothing is pushed to (or withdrawn from) a cluster that is not ready;
		// the cluster watch brings the summary back when it is.
		s.Status.FailureMessage = ptr(fmt.Sprintf("cluster %s is not ready", clusterKey))
		return ctrl.Result{}, nil
	}
	if !r.Shard.Owns(cluster) {
		return ctrl.Result{}, nil // another manager's shard deploys to this cluster
	}
	if cluster.Spec.Paused {
		return ctrl.Result{}, nil
	}
	s.Status.FailureMessage = nil
	if waiting, err := r.dependencies(ctx, s); err != nil || waiting {
		return ctrl.Result{RequeueAfter: 5 * time.Second}, err
	}
	// Features are deployed independently: a failing one does not stop the others.
	drifted := r.drift.takeDrifted(client.ObjectKeyFromObject(s))
	var result ctrl.Result
	var errs []error
	for _, deploy := range []func() (ctrl.Result, error){
		func() (ctrl.Result, error) { return r.deployResources(ctx, s, cluster, prof, drifted) },
		func() (ctrl.Result, error) { return r.deployKustomize(ctx, s, cluster, prof, drifted) },
		func() (ctrl.Result, error) { return r.deployHelm(ctx, s, cluster, followUps) },
	} {
		res, err := deploy()
		errs = append(errs, err)
		if res.RequeueAfter > 0 && (result.RequeueAfter == 0 || res.RequeueAfter < result.RequeueAfter) {
			result.RequeueAfter = res.RequeueAfter
		}
	}
	s.Status.ObservedGeneration = s.Generation
	return result, errors.Join(errs...)
}

// dependencies checks dependsOn: every named profile must be Provisioned on this cluster.
func (r *SummaryReconciler) dependencies(ctx context.Context, s *configv1beta1.ClusterSummary) (bool, error) {
	var missing []string
	for _, dep := range s.Spec.ClusterProfileSpec.DependsOn {
		other := &configv1beta1.ClusterSummary{}
		name := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, dep, s.Spec.ClusterName)
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: name}, other); err != nil {
			if !apierrors.IsNotFound(err) {
				return false, err
			}
			missing = append(missing, dep)
			continue
		}
		for _, fs := range other.Status.FeatureSummaries {
			if fs.Status != libv1beta1.FeatureStatusProvisioned {
				missing = append(missing, dep)
				break
			}
		}
	}
	if len(missing) == 0 {
		s.Status.Dependencies = nil
		return false, nil
	}
	s.Status.Dependencies = ptr("waiting for " + strings.Join(missing, ", ") + " to be provisioned")
	return true, nil
}

func (r *SummaryReconciler) profilePaused(ctx context.Context, p profileRef) (bool, error) {
	var obj client.Object = &configv1beta1.ClusterProfile{}
	if p.kind == configv1beta1.ProfileKind {
		obj = &configv1beta1.Profile{}
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: p.namespace, Name: p.name}, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	_, paused := obj.GetAnnotations()[configv1beta1.PausedAnnotation]
	return paused, nil
}

// objectSource yields the objects of one object feature (Resources, Kustomize)
// for one cluster.
type objectSource interface {
	// hash covers everything the objects depend on.
	hash() ([]byte, error)
	// render produces the objects, split by destination.
	render() (remote, local []deployer.Desired, err error)
}

// deployResources runs the Resources feature (policyRefs).
func (r *SummaryReconciler) deployResources(ctx context.Context, s *configv1beta1.ClusterSummary, cluster *libv1beta1.SveltosCluster, prof profileRef, drifted bool) (ctrl.Result, error) {
	return r.deployObjects(ctx, s, cluster, prof, libv1beta1.FeatureResources, len(s.Spec.ClusterProfileSpec.PolicyRefs) > 0, drifted,
		func() (objectSource, error) { return r.collect(ctx, s, cluster, prof.referenceNamespace()) })
}

// deployObjects runs one object feature: read its inputs, skip everything when
// their hash is unchanged, else render and apply through the deployer (remote
// objects into the cluster, Local ones into the management cluster), clean up
// what is no longer desired and record the result.
func (r *SummaryReconciler) deployObjects(ctx context.Context, s *configv1beta1.ClusterSummary, cluster *libv1beta1.SveltosCluster,
	prof profileRef, feature libv1beta1.FeatureID, wanted, drifted bool, collect func() (objectSource, error)) (ctrl.Result, error) {
	spec := &s.Spec.ClusterProfileSpec
	previousGVKs := deployedGVKs(s, feature)
	if !wanted && len(previousGVKs) == 0 {
		removeFeature(s, feature)
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
	if bytes.Equal(fs.Hash, hash) && fs.Status == libv1beta1.FeatureStatusProvisioned && !drifted {
		return ctrl.Result{}, nil // nothing changed: no call to the managed cluster at all
	}
	remote, local, err := in.render()
	if err != nil {
		return r.fail(s, fs, err)
	}
	started := time.Now()
	var conflicts int
	defer func() {
		r.Metrics.ObserveDeploy(string(feature), time.Since(started), ptrErr(fs))
		r.Metrics.AddConflicts(string(feature), conflicts)
	}()

	owner := prof.owner(s)
	base := deployer.Request{
		Owner: owner, Feature: feature,
		ContinueOnConflict: spec.ContinueOnConflict, ContinueOnError: spec.ContinueOnError,
		DryRun:      spec.SyncMode == libv1beta1.SyncModeDryRun,
		ExtraLabels: spec.ExtraLabels, ExtraAnnotations: spec.ExtraAnnotations,
		Patches: spec.Patches, DriftExclusions: spec.DriftExclusions,
		Reapply: drifted, // a drifted object carries our hash but not our content
	}
	var deployed []deployer.ObjectRef
	var reports []configv1beta1.ResourceReport
	type target struct {
		cluster types.NamespacedName
		objects []deployer.Desired
	}
	clusterKey := types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Name}
	targets := []target{{clusterKey, remote}, {r.ManagementCluster, local}}
	if clusterKey == r.ManagementCluster {
		// Remote and Local are the same cluster: one pass, or the second would
		// clean up what the first just deployed.
		targets = []target{{clusterKey, append(remote, local...)}}
	}
	for _, target := range targets {
		c, err := r.clientFor(ctx, target.cluster)
		if err != nil {
			return r.fail(s, fs, err)
		}
		previous, err := deployer.Owned(ctx, c, owner, feature, previousGVKs)
		if err != nil {
			return r.fail(s, fs, err)
		}
		if len(target.objects) == 0 && len(previous) == 0 {
			continue
		}
		req := base
		req.Objects, req.Previous = target.objects, previous
		res, err := r.Deployer.Apply(ctx, c, req)
		conflicts += len(res.Conflicts)
		deployed = append(deployed, res.Deployed...)
		reports = append(reports, res.Report...)
		if err != nil {
			return r.fail(s, fs, err)
		}
	}
	if base.DryRun {
		return ctrl.Result{}, r.writeReport(ctx, s, prof, feature, reports)
	}
	setDeployedGVKs(s, feature, deployer.DeployedGVKs(deployed))
	if spec.SyncMode == libv1beta1.SyncModeContinuousWithDriftDetection {
		if err := r.drift.watch(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Name}, deployedGVKs(s, feature)); err != nil {
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
	fs.FailureMessage = nil
	fs.ConsecutiveFailures = 0
	fs.LastAppliedTime = &now
	r.event(s, corev1.EventTypeNormal, "Deployed", fmt.Sprintf("%s: %d objects deployed", feature, len(deployed)))
	return ctrl.Result{}, nil
}

// fail records a failed feature. Bad input waits for a change (the watches bring
// the summary back); other errors are retried with backoff.
func (r *SummaryReconciler) fail(s *configv1beta1.ClusterSummary, fs *configv1beta1.FeatureSummary, err error) (ctrl.Result, error) {
	fs.Status = libv1beta1.FeatureStatusFailed
	fs.Hash = nil
	fs.FailureMessage = ptr(err.Error())
	fs.ConsecutiveFailures++
	r.event(s, corev1.EventTypeWarning, "DeployFailed", err.Error())
	if permanent(err) {
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

func (r *SummaryReconciler) clientFor(ctx context.Context, cluster types.NamespacedName) (client.Client, error) {
	conn, err := r.Registry.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	return conn.Client()
}

// writeReport stores a dry run's result for one feature in the summary's ClusterReport.
func (r *SummaryReconciler) writeReport(ctx context.Context, s *configv1beta1.ClusterSummary, prof profileRef, feature libv1beta1.FeatureID, reports []configv1beta1.ResourceReport) error {
	report := &configv1beta1.ClusterReport{ObjectMeta: metav1.ObjectMeta{
		Namespace: s.Namespace, Name: configv1beta1.ClusterReportName(prof.kind, prof.name, s.Spec.ClusterName),
	}}
	if _, err := controllerutil.CreateOrUpdate(ctx, r.Client, report, func() error {
		if report.Labels == nil {
			report.Labels = map[string]string{}
		}
		report.Labels[configv1beta1.ProfileLabel(prof.kind)] = prof.name
		report.Labels[configv1beta1.ClusterNameLabel] = s.Spec.ClusterName
		report.Spec.ClusterNamespace = s.Spec.ClusterNamespace
		report.Spec.ClusterName = s.Spec.ClusterName
		report.Spec.ClusterType = s.Spec.ClusterType
		return nil
	}); err != nil {
		return fmt.Errorf("writing ClusterReport %s/%s: %w", report.Namespace, report.Name, err)
	}
	before := report.DeepCopy()
	switch feature {
	case libv1beta1.FeatureHelm:
		report.Status.HelmResourceReports = reports
	case libv1beta1.FeatureKustomize:
		report.Status.KustomizeResourceReports = reports
	default:
		report.Status.ResourceReports = reports
	}
	if err := r.Client.Status().Patch(ctx, report, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("writing status of ClusterReport %s/%s: %w", report.Namespace, report.Name, err)
	}
	return nil
}

// withdraw removes (or, with LeavePolicies, releases) what a deleted summary
// deployed, then lets it go. An unreachable cluster holds it back for at most
// withdrawGrace.
func (r *SummaryReconciler) withdraw(ctx context.Context, s *configv1beta1.ClusterSummary) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(s, SummaryFinalizer) {
		return ctrl.Result{}, nil
	}
	cluster := &libv1beta1.SveltosCluster{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: s.Spec.ClusterNamespace, Name: s.Spec.ClusterName}, cluster); err == nil && !r.Shard.Owns(cluster) {
		return ctrl.Result{}, nil // the manager of the cluster's shard withdraws
	}
	spec := &s.Spec.ClusterProfileSpec
	leave := spec.StopMatchingBehavior == libv1beta1.LeavePolicies
	prof := profileOf(s)
	owner := prof.owner(s)
	err := r.withdrawFrom(ctx, s, owner, types.NamespacedName{Namespace: s.Spec.ClusterNamespace, Name: s.Spec.ClusterName}, leave)
	if err == nil {
		err = r.withdrawFrom(ctx, s, owner, r.ManagementCluster, leave)
	}
	if err == nil {
		err = r.withdrawHelm(ctx, s, leave)
	}
	if err != nil {
		if time.Since(s.DeletionTimestamp.Time) < withdrawGrace {
			return ctrl.Result{}, err
		}
		r.event(s, corev1.EventTypeWarning, "WithdrawAbandoned", fmt.Sprintf("cluster unreachable for %s, released without withdrawing: %v", withdrawGrace, err))
	}
	controllerutil.RemoveFinalizer(s, SummaryFinalizer)
	if err := r.Client.Update(ctx, s); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("removing finalizer of ClusterSummary %s/%s: %w", s.Namespace, s.Name, err)
	}
	return ctrl.Result{}, nil
}

func (r *SummaryReconciler) withdrawFrom(ctx context.Context, s *configv1beta1.ClusterSummary, owner deployer.Owner, cluster types.NamespacedName, leave bool) error {
	features := []libv1beta1.FeatureID{libv1beta1.FeatureResources, libv1beta1.FeatureKustomize}
	anyDeployed := false
	for _, f := range features {
		anyDeployed = anyDeployed || len(deployedGVKs(s, f)) > 0
	}
	if !anyDeployed {
		return nil
	}
	sc := &libv1beta1.SveltosCluster{}
	if err := r.Client.Get(ctx, cluster, sc); apierrors.IsNotFound(err) && cluster != r.ManagementCluster {
		return nil // the cluster is gone: nothing left to withdraw from
	}
	c, err := r.clientFor(ctx, cluster)
	if err != nil {
		return err
	}
	for _, f := range features {
		gvks := deployedGVKs(s, f)
		if len(gvks) == 0 {
			continue
		}
		owned, err := deployer.Owned(ctx, c, owner, f, gvks)
		if err != nil {
			return err
		}
		if _, err := r.Deployer.Withdraw(ctx, c, owner, f, owned, leave); err != nil {
			return fmt.Errorf("withdrawing %s from cluster %s: %w", f, cluster, err)
		}
	}
	return nil
}

func (r *SummaryReconciler) patchStatus(ctx context.Context, before, after *configv1beta1.ClusterSummary) error {
	if err := r.Client.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating status of ClusterSummary %s/%s: %w", after.Namespace, after.Name, err)
	}
	return nil
}

func (r *SummaryReconciler) event(obj client.Object, kind, reason, msg string) {
	if len(msg) > maxEventMessage {
		msg = msg[:maxEventMessage-3] + "..."
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, kind, reason, "Deploy", "%s", msg)
	}
}

func featureSummary(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) *configv1beta1.FeatureSummary {
	for i := range s.Status.FeatureSummaries {
		if s.Status.FeatureSummaries[i].FeatureID == id {
			return &s.Status.FeatureSummaries[i]
		}
	}
	s.Status.FeatureSummaries = append(s.Status.FeatureSummaries, configv1beta1.FeatureSummary{FeatureID: id, Status: libv1beta1.FeatureStatusProvisioning})
	return &s.Status.FeatureSummaries[len(s.Status.FeatureSummaries)-1]
}

func removeFeature(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) {
	out := s.Status.FeatureSummaries[:0]
	for _, fs := range s.Status.FeatureSummaries {
		if fs.FeatureID != id {
			out = append(out, fs)
		}
	}
	s.Status.FeatureSummaries = out
}

func deployedGVKs(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, d := range s.Status.DeployedGVKs {
		if d.FeatureID != id {
			continue
		}
		for _, g := range d.DeployedGroupVersionKind {
			// Kind.version.group, the form deployer.DeployedGVKs writes.
			if gvk, _ := schema.ParseKindArg(g); gvk != nil {
				out = append(out, *gvk)
			}
		}
	}
	return out
}

func setDeployedGVKs(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID, gvks []string) {
	for i := range s.Status.DeployedGVKs {
		if s.Status.DeployedGVKs[i].FeatureID == id {
			s.Status.DeployedGVKs[i].DeployedGroupVersionKind = gvks
			return
		}
	}
	s.Status.DeployedGVKs = append(s.Status.DeployedGVKs, configv1beta1.FeatureDeploymentInfo{FeatureID: id, DeployedGroupVersionKind: gvks})
}

// requeue brings another summary back to its controller (e.g. the loser of a conflict).
func (r *SummaryReconciler) requeue(key types.NamespacedName) {
	s := &configv1beta1.ClusterSummary{}
	s.Namespace, s.Name = key.Namespace, key.Name
	select {
	case r.drift.events <- event.GenericEvent{Object: s}:
	default:
	}
}

func ptr[T any](v T) *T { return &v }

// ptrErr is the failure of a feature as an error, for metrics.
func ptrErr(fs *configv1beta1.FeatureSummary) error {
	if fs.Status == libv1beta1.FeatureStatusFailed && fs.FailureMessage != nil {
		return errors.New(*fs.FailureMessage)
	}
	return nil
}
