package profiles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/metrics"
	"github.com/tugboat-dev/tugboat/internal/remote"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// SummaryFinalizer keeps a ClusterSummary until what it deployed is withdrawn.
const SummaryFinalizer = "config.projectsveltos.io/clustersummary"

const (
	// withdrawGrace bounds how long a deleted summary waits for an unreachable
	// cluster before it lets go without withdrawing.
	withdrawGrace = 2 * time.Minute
	// withdrawRetry is how often a withdrawal that failed is tried again.
	withdrawRetry = 5 * time.Second
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
	ManagementCluster libv1beta1.ClusterID
	Deployer          *deployer.Deployer
	// Helm installs the helmCharts releases.
	Helm *helm.Client
	// Sources reads Flux source artifacts (default: a fetcher reading through APIReader).
	Sources *sources.Fetcher

	Concurrency int

	// Retry options
	// RateLimiter spaces the retries of a failed reconcile (nil:
	// controller-runtime's per-item exponential backoff, 5 ms doubling up to
	// 1000 s). A cluster's return resets it for the cluster's summaries.
	RateLimiter workqueue.TypedRateLimiter[reconcile.Request]

	// Shard selects the clusters this manager deploys to.
	Shard clusters.Shard

	// Fleet reads the clusters (SveltosClusters and Cluster API Clusters); its
	// Reader defaults to Client.
	Fleet clusters.Fleet

	// APIReader reads past the cache where a stale read would decide wrongly
	// (who holds a Helm release); defaults to Client.
	APIReader client.Reader

	// Metrics records deploy durations and conflicts (nil: none).
	Metrics *metrics.Metrics

	// HealthMetricsInterval is how often checks with a metricSource are
	// evaluated again (zero: DefaultHealthMetricsInterval).
	HealthMetricsInterval time.Duration
	// HealthJobRetry is how long a failed Job of a preDeployChecks,
	// preDeleteChecks or postDeleteChecks jobCheck waits before it runs again,
	// doubled at each failed attempt (zero: health.DefaultJobRetry).
	HealthJobRetry time.Duration

	// Multi-tenancy options
	// Identities deploys the profiles labelled with a tenant's service account
	// as that tenant (internal/tenancy); nil: such profiles fail.
	Identities Identities

	// drift watches deployed objects of summaries with drift detection.
	drift *driftWatcher
	// templateKinds watches the kinds templateResourceRefs name.
	templateKinds *templateKindWatches
	// health watches the objects the summaries' health checks read;
	// healthHeld records the holders that hold some of its watches.
	health     *clusters.Watcher
	healthHeld sync.Map
	// remoteContent keeps the content of remoteURLs between fetches (one
	// fetch per interval); nil fetches on every reconcile.
	remoteContent *remote.Cache
}

// profileOf is the profile a summary belongs to (configv1beta1.ProfileOf); a
// summary without profile labels is taken as an unnamed ClusterProfile's.
func profileOf(s *configv1beta1.ClusterSummary) configv1beta1.ProfileRef {
	if p, ok := configv1beta1.ProfileOf(s); ok {
		return p
	}
	return configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind}
}

// referenceNamespace is where a Profile's references live; empty for a
// ClusterProfile, whose references default to the cluster's namespace.
func referenceNamespace(p configv1beta1.ProfileRef) string {
	if p.Kind == configv1beta1.ProfileKind {
		return p.Namespace
	}
	return ""
}

// summaryOwner is the deployer's identity of a summary: its profile p, in its cluster.
func summaryOwner(p configv1beta1.ProfileRef, s *configv1beta1.ClusterSummary) deployer.Owner {
	return deployer.Owner{Kind: p.Kind, Name: p.Name, Tier: s.Spec.ClusterProfileSpec.Tier,
		Cluster: s.Cluster().String()}
}

// Reconcile deploys (or withdraws) one profile in one cluster. The summary's
// status is computed in memory on every path and written once, by the deferred
// patcher: nothing when it did not change.
func (r *SummaryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	s := &configv1beta1.ClusterSummary{}
	if err := r.Client.Get(ctx, req.NamespacedName, s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// Summaries to bring back once this one's status is written (e.g. a profile
	// that lost a Helm release to this one must see it managed here).
	var followUps []types.NamespacedName
	// Written on condition of the resourceVersion: the status holds the record
	// of what the summary deployed, which a stale copy must never replace.
	patcher := conditions.NewStatusPatcher(r.Client, s).WithOptimisticLock()
	// Checks that nothing watched brings back ask to come back (health_come_back.go).
	ctx, due := withComeBack(ctx)
	defer func() {
		err := patcher.Patch(ctx, s)
		if apierrors.IsConflict(err) {
			// Started from a stale copy: what was written ahead stays; run again
			// from the newer copy.
			result, err = ctrl.Result{Requeue: true}, nil
		}
		retErr = errors.Join(retErr, err)
		result = due.result(result, retErr)
		for _, key := range followUps {
			r.requeue(key)
		}
	}()

	if !s.DeletionTimestamp.IsZero() {
		return r.withdraw(ctx, s)
	}
	if controllerutil.AddFinalizer(s, SummaryFinalizer) {
		if err := r.Client.Update(ctx, s); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to ClusterSummary %s: %w", req.NamespacedName, err)
		}
	}
	return r.deploy(ctx, s, patcher, &followUps)
}

// deploy runs the summary's features when its profile, cluster and dependencies
// allow. A feature whose content changed says Provisioning before its objects
// are applied through patcher's Flush (the deferred write comes only after the
// apply).
func (r *SummaryReconciler) deploy(ctx context.Context, s *configv1beta1.ClusterSummary, patcher *conditions.StatusPatcher, followUps *[]types.NamespacedName) (ctrl.Result, error) {
	clusterKey := s.Cluster()
	cluster, err := r.Fleet.Get(ctx, clusterKey)
	if err != nil {
		if apierrors.IsNotFound(err) {
			s.Status.FailureMessage = ptr(fmt.Sprintf("cluster %s not found", clusterKey))
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !r.Shard.Owns(cluster.Object) {
		// Another manager's shard deploys to this cluster and writes this
		// summary's status: not a word from this one.
		return ctrl.Result{}, nil
	}
	prof := profileOf(s)
	if paused, err := r.profilePaused(ctx, prof); err != nil || paused {
		return ctrl.Result{}, err
	}
	if !cluster.Eligible() {
		// Nothing is pushed to (or withdrawn from) a cluster that is not ready;
		// the cluster watch brings the summary back when it is.
		s.Status.FailureMessage = ptr(fmt.Sprintf("cluster %s is not ready", clusterKey))
		return ctrl.Result{}, nil
	}
	if cluster.Paused {
		return ctrl.Result{}, nil
	}
	s.Status.FailureMessage = nil
	if waiting, err := r.dependencies(ctx, s); err != nil || waiting {
		return ctrl.Result{RequeueAfter: 5 * time.Second}, err
	}
	return r.runFeatures(ctx, &featureRun{s: s, cluster: cluster, prof: prof, status: patcher, followUps: followUps})
}

// dependencies checks dependsOn: every named profile must be Provisioned on this cluster.
func (r *SummaryReconciler) dependencies(ctx context.Context, s *configv1beta1.ClusterSummary) (bool, error) {
	var missing []string
	for _, dep := range s.Spec.ClusterProfileSpec.DependsOn {
		other := &configv1beta1.ClusterSummary{}
		// Dependencies are profiles of the same kind (a Profile's, in its namespace).
		name := configv1beta1.ClusterSummaryNameFor(profileOf(s).Kind, dep, s.Cluster())
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

func (r *SummaryReconciler) profilePaused(ctx context.Context, p configv1beta1.ProfileRef) (bool, error) {
	var obj client.Object = &configv1beta1.ClusterProfile{}
	if p.Kind == configv1beta1.ProfileKind {
		obj = &configv1beta1.Profile{}
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: p.Name}, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	_, paused := obj.GetAnnotations()[configv1beta1.PausedAnnotation]
	return paused, nil
}
