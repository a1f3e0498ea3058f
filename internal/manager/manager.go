// Package manager assembles every Tugboat controller into one controller-runtime
// manager: leader-elected, shardable, with metrics and health probes. cmd/manager
// turns flags into Options; tests and `tug dev up` call New/Run directly.
package manager

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/classifier"
	"github.com/tugboat-dev/tugboat/internal/clusterhealth"
	"github.com/tugboat-dev/tugboat/internal/clusterpromotion"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/metrics"
	"github.com/tugboat-dev/tugboat/internal/postgreswriter"
	"github.com/tugboat-dev/tugboat/internal/profiles"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
	schedulercontroller "github.com/tugboat-dev/tugboat/internal/scheduler/controller"
	"github.com/tugboat-dev/tugboat/internal/support"
	"github.com/tugboat-dev/tugboat/internal/tenancy"
	"github.com/tugboat-dev/tugboat/internal/version"
)

// Options configures the manager.
type Options struct {
	// Serving options
	// MetricsAddr is where Prometheus metrics are served ("0" disables).
	MetricsAddr string
	// ProbeAddr is where /healthz and /readyz are served ("0" disables).
	ProbeAddr string
	// PprofAddr is where Go's /debug/pprof/ profiles are served (empty or "0":
	// not served); for measuring, not for production.
	PprofAddr string

	// High-availability options
	LeaderElection          bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election
	// (zero: controller-runtime's defaults of 15s, 10s and 2s).
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration

	// Fleet options
	// ManagementCluster is the SveltosCluster that stands for the management cluster.
	ManagementCluster types.NamespacedName
	// ShardKey restricts this manager to the clusters annotated with it (empty: the unsharded ones).
	ShardKey string
	// ProbeInterval is how often healthy clusters are probed again.
	ProbeInterval time.Duration
	// HealthMetricsInterval is how often health checks with a metricSource
	// query their Prometheus endpoint and run again (metrics cannot be watched).
	HealthMetricsInterval time.Duration
	// HealthJobRetry is how long a failed Job of a gate's jobCheck
	// (preDeployChecks, preDeleteChecks, postDeleteChecks) waits before it
	// runs again, doubled at each failed attempt (zero: 10s).
	HealthJobRetry time.Duration
	// WorkloadIdentityCommands are the credential plugins run for
	// SveltosClusters with spec.workloadIdentity (empty: the clouds' standard ones).
	WorkloadIdentityCommands clusters.WorkloadIdentityCommands
	// Clock tells the cluster controller the time of active windows and token
	// renewals (nil: the real clock; tests step a fake one).
	Clock clock.PassiveClock
	// Concurrency is the number of objects each controller reconciles at once.
	Concurrency int
	// CacheSyncTimeout is how long a controller waits for its caches of the
	// management cluster to fill before the manager gives up and exits (zero:
	// controller-runtime's 2 minutes). A management cluster with thousands of
	// clusters and summaries, busy with registrations, can take longer.
	CacheSyncTimeout time.Duration
	// SummaryRateLimiter spaces the ClusterSummary controller's retries of
	// failed reconciles (nil: controller-runtime's default); tests make it huge
	// to show what does not wait for it.
	SummaryRateLimiter workqueue.TypedRateLimiter[reconcile.Request]
	// Namespace is Tugboat's own namespace, where EventTriggers put the
	// ConfigMaps/Secrets they instantiate (created if missing).
	Namespace string

	// HelmCacheDir is where downloaded charts are cached (default: a folder in the temporary directory).
	HelmCacheDir string

	// SkipControllerNameValidation allows several managers in one process (tests):
	// controller-runtime otherwise rejects a controller name used twice.
	SkipControllerNameValidation bool

	// Optional controllers
	// PostgresWriter, when set, runs the example PostgresWriter operator.
	PostgresWriter *postgreswriter.Options
	// Scheduler runs the GitOps scheduler controller (GitOpsRepos naming a control plane).
	Scheduler bool
	// SchedulerWebhookAddress is where the scheduler serves
	// POST /hooks/scheduler/<namespace>/<name> (empty or "0": no webhook).
	SchedulerWebhookAddress string
	// SchedulerWebhookSecret, when set, must have signed each hook (X-Hub-Signature-256).
	SchedulerWebhookSecret []byte
	// SchedulerPollInterval is how often Environments read their member clusters
	// again (default 30s); SchedulerSourceInterval is the interval of the
	// GitRepositories generated for delivery (default 1m).
	SchedulerPollInterval   time.Duration
	SchedulerSourceInterval time.Duration

	// CloudEvents options
	// Events, when set, serves the CloudEvents HTTP endpoint
	// (POST /events/<namespace>/<cluster>).
	Events *events.HTTPOptions

	// PullMode, when set, serves the pull-mode hub (internal/pullmode) that
	// the agents of SveltosClusters with spec.pullMode connect to; nil: such
	// clusters fail their probe, saying pull mode is off. Its Namespace
	// defaults to Namespace.
	PullMode *pullmode.HubOptions

	// Dashboard, when set, serves the read-only web dashboard (internal/dashboard);
	// its TokenSecret defaults to Namespace/tugboat-dashboard.
	Dashboard *dashboard.Options

	// Support options
	// LogLevels is the table the manager's logger consults (support.NewLevelSink,
	// installed where the logger is set); the DebuggingConfiguration named
	// "default" fills it. Nil: DebuggingConfigurations cannot change levels.
	LogLevels *support.LogLevels
	// TechsupportDir is where Techsupport archives are written (default: a
	// folder in the temporary directory).
	TechsupportDir string
}

// DefaultOptions are the defaults of cmd/manager's flags.
func DefaultOptions() Options {
	return Options{
		MetricsAddr:             ":8080",
		ProbeAddr:               ":8081",
		LeaderElection:          true,
		LeaderElectionNamespace: "projectsveltos",
		LeaderElectionID:        "tugboat-manager",
		ManagementCluster:       types.NamespacedName{Namespace: "mgmt", Name: "mgmt"},
		Namespace:               "projectsveltos",
		ProbeInterval:           time.Minute,
		HealthMetricsInterval:   profiles.DefaultHealthMetricsInterval,
		Concurrency:             10,
		CacheSyncTimeout:        10 * time.Minute,
	}
}

// Manager is a configured controller manager with Tugboat's shared pieces.
type Manager struct {
	ctrl.Manager
	Registry *clusters.Registry
	// Metrics are Tugboat's own metrics, registered on controller-runtime's registry.
	Metrics *metrics.Metrics
	// Events is the CloudEvents HTTP endpoint (nil unless Options.Events is set).
	Events *events.HTTPEndpoint
	// Dashboard is the web dashboard (nil unless Options.Dashboard is set).
	Dashboard *dashboard.Server
	// PullModeHub is the pull-mode hub (nil unless Options.PullMode is set).
	PullModeHub *pullmode.Hub
	opts        Options
	config      *rest.Config
}

// New creates the manager and registers every controller.
func New(ctx context.Context, cfg *rest.Config, opts Options) (*Manager, error) {
	scheme := api.NewScheme()
	if opts.LeaderElection && opts.ShardKey != "" {
		opts.LeaderElectionID += "-" + opts.ShardKey
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:        opts.ProbeAddr,
		PprofBindAddress:              opts.PprofAddr,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionID:              opts.LeaderElectionID,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 durationOrNil(opts.LeaseDuration),
		RenewDeadline:                 durationOrNil(opts.RenewDeadline),
		RetryPeriod:                   durationOrNil(opts.RetryPeriod),
		Controller:                    config.Controller{SkipNameValidation: &opts.SkipControllerNameValidation, CacheSyncTimeout: opts.CacheSyncTimeout},
		Cache:                         shardCache(opts.ShardKey),
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}

	tugMetrics, err := metrics.New(ctrlmetrics.Registry)
	if err != nil {
		return nil, err
	}

	var hub *pullmode.Hub
	var pullModeHub clusters.PullModeHub // a nil *pullmode.Hub must stay a nil interface
	if opts.PullMode != nil {
		hubOpts := *opts.PullMode
		if hubOpts.Namespace == "" {
			hubOpts.Namespace = opts.Namespace
		}
		if err := hubOpts.Check(); err != nil {
			return nil, err
		}
		hub = &pullmode.Hub{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Options: hubOpts, ShardKey: opts.ShardKey,
			Elected: mgr.Elected(), Log: mgr.GetLogger().WithName("pullmode-hub"), Recorder: mgr.GetEventRecorder("tugboat-pullmode-hub")}
		if err := mgr.Add(hub); err != nil {
			return nil, fmt.Errorf("setting up the pull-mode hub: %w", err)
		}
		pullModeHub = hub
	}
	registry := clusters.NewRegistry(clusters.RegistryOptions{
		Reader:            mgr.GetClient(),
		Scheme:            scheme,
		ManagementCluster: opts.ManagementCluster,
		ManagementConfig:  cfg,

		WorkloadIdentityCommands: opts.WorkloadIdentityCommands,
		PullMode:                 pullModeHub,
	})
	if err := (&clusters.Reconciler{
		Client:        mgr.GetClient(),
		Registry:      registry,
		Recorder:      mgr.GetEventRecorder("tugboat-cluster-controller"),
		ProbeInterval: opts.ProbeInterval,
		Shard:         clusters.Shard{Key: opts.ShardKey},
		Concurrency:   opts.Concurrency,
		Metrics:       tugMetrics,
		Clock:         opts.Clock,
		// Readiness and liveness checks select resources as EventSources do.
		CompileSelector: func(rs libv1beta1.ResourceSelector) (clusters.ResourceMatcher, error) {
			m, err := events.CompileSelector(rs)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
	}).SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("setting up the cluster controller: %w", err)
	}
	// The clusters every controller chooses from: SveltosClusters, and Cluster
	// API Clusters when the management cluster serves Cluster API.
	fleet := clusters.FleetFor(mgr)
	ctrl.Log.WithName("setup").Info("managed clusters", "clusterAPI", string(cmp.Or(fleet.CAPI, "not installed")))
	if err := (&clusters.CAPIReconciler{Fleet: fleet, Registry: registry}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Cluster API cluster controller: %w", err)
	}
	shard := clusters.Shard{Key: opts.ShardKey}
	// Selection looks at the whole fleet: only the manager without a shard key
	// runs it (sets, profiles and the ClusterSummaries of every cluster, of every
	// shard); each shard manager deploys the summaries of its own clusters. Several
	// managers writing one profile's status would fight over it.
	if shard.Selects() {
		for _, namespaced := range []bool{false, true} {
			if err := (&clusters.SetReconciler{Client: mgr.GetClient(), Fleet: fleet, Namespaced: namespaced}).SetupWithManager(mgr); err != nil {
				return nil, fmt.Errorf("setting up the set controller: %w", err)
			}
		}
		for _, kind := range []string{configv1beta1.ClusterProfileKind, configv1beta1.ProfileKind} {
			if err := (&profiles.ProfileReconciler{
				Client:      mgr.GetClient(),
				Recorder:    mgr.GetEventRecorder("tugboat-profile-controller"),
				Kind:        kind,
				Fleet:       fleet,
				Concurrency: opts.Concurrency,
			}).SetupWithManager(mgr); err != nil {
				return nil, fmt.Errorf("setting up the %s controller: %w", kind, err)
			}
		}
	}
	if opts.HelmCacheDir == "" {
		opts.HelmCacheDir = filepath.Join(os.TempDir(), "tugboat-helm")
	}
	helmClient, err := helm.New(opts.HelmCacheDir, helm.Options{})
	if err != nil {
		return nil, fmt.Errorf("creating the Helm client: %w", err)
	}
	if err := (&profiles.SummaryReconciler{
		Client:            mgr.GetClient(),
		Recorder:          mgr.GetEventRecorder("tugboat-clustersummary-controller"),
		Registry:          registry,
		ManagementCluster: libv1beta1.SveltosClusterID(opts.ManagementCluster.Namespace, opts.ManagementCluster.Name),
		Deployer:          &deployer.Deployer{},
		APIReader:         mgr.GetAPIReader(),
		Shard:             clusters.Shard{Key: opts.ShardKey},
		Fleet:             fleet,
		Metrics:           tugMetrics,
		Helm:              helmClient,
		Identities:        tenancy.NewIdentities(registry),
		Concurrency:       opts.Concurrency,
		RateLimiter:       opts.SummaryRateLimiter,

		HealthMetricsInterval: opts.HealthMetricsInterval,
		HealthJobRetry:        opts.HealthJobRetry,
	}).SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("setting up the ClusterSummary controller: %w", err)
	}
	triggers := &events.TriggerReconciler{
		Shard:       clusters.Shard{Key: opts.ShardKey},
		Client:      mgr.GetClient(),
		Registry:    registry,
		Fleet:       fleet,
		Namespace:   opts.Namespace,
		Concurrency: opts.Concurrency,
		Recorder:    mgr.GetEventRecorder("tugboat-eventtrigger-controller"),
	}
	if err := triggers.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the EventTrigger controller: %w", err)
	}
	// ClusterPromotions roll a profile's content out stage by stage: they only
	// generate ClusterProfiles, which the controllers above deploy.
	if shard.Selects() {
		if err := (&clusterpromotion.Reconciler{
			Client:      mgr.GetClient(),
			Recorder:    mgr.GetEventRecorder("tugboat-clusterpromotion-controller"),
			Concurrency: opts.Concurrency,
		}).SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the ClusterPromotion controller: %w", err)
		}
	}
	// Classification, fleet health, tenancy and support: each package registers
	// its own controllers with the same shared pieces.
	deps := clusters.ControllerDeps{Client: mgr.GetClient(), Fleet: fleet, Registry: registry, Shard: clusters.Shard{Key: opts.ShardKey},
		Concurrency: opts.Concurrency, Namespace: opts.Namespace, Metrics: tugMetrics}
	if err := (&classifier.Controllers{ControllerDeps: deps}).SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("setting up the classifier controllers: %w", err)
	}
	if err := (&clusterhealth.Controllers{ControllerDeps: deps}).SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("setting up the health check controllers: %w", err)
	}
	if err := (&tenancy.Controllers{ControllerDeps: deps}).SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("setting up the tenancy controllers: %w", err)
	}
	if opts.TechsupportDir == "" {
		opts.TechsupportDir = filepath.Join(os.TempDir(), "tugboat-techsupport")
	}
	if err := (&support.Controllers{ControllerDeps: deps, LogLevels: opts.LogLevels, ArchiveDir: opts.TechsupportDir}).SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("setting up the support controllers: %w", err)
	}
	var endpoint *events.HTTPEndpoint
	if opts.Events != nil {
		if err := opts.Events.Check(); err != nil {
			return nil, err
		}
		endpoint = &events.HTTPEndpoint{Receiver: triggers, Reader: mgr.GetClient(), Options: *opts.Events, Elected: mgr.Elected()}
		if err := mgr.Add(endpoint); err != nil {
			return nil, fmt.Errorf("setting up the CloudEvents endpoint: %w", err)
		}
	}
	var board *dashboard.Server
	if opts.Dashboard != nil {
		boardOpts := *opts.Dashboard
		if boardOpts.TokenSecret.Name == "" {
			boardOpts.TokenSecret = types.NamespacedName{Namespace: opts.Namespace, Name: dashboard.DefaultTokenSecretName}
		}
		if err := boardOpts.Check(); err != nil {
			return nil, err
		}
		board = &dashboard.Server{Fleet: fleet, Client: mgr.GetClient(), Informers: mgr.GetCache(),
			Clusters: dashboard.RegistryReaders{Registry: registry}, Options: boardOpts}
		if err := mgr.Add(board); err != nil {
			return nil, fmt.Errorf("setting up the dashboard: %w", err)
		}
	}
	if opts.Scheduler {
		scheduler := &schedulercontroller.Reconciler{
			Client:         mgr.GetClient(),
			APIReader:      mgr.GetAPIReader(),
			WebhookAddress: opts.SchedulerWebhookAddress,
			WebhookSecret:  opts.SchedulerWebhookSecret,
			SourceInterval: opts.SchedulerSourceInterval,
			Recorder:       mgr.GetEventRecorder("tugboat-scheduler"),
		}
		if err := scheduler.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the scheduler controller: %w", err)
		}
		if err := (&schedulercontroller.EnvironmentReconciler{
			Client:       mgr.GetClient(),
			Registry:     registry,
			Recorder:     mgr.GetEventRecorder("tugboat-environment-controller"),
			Metrics:      tugMetrics,
			Scheduler:    scheduler,
			PollInterval: opts.SchedulerPollInterval,
		}).SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the environment controller: %w", err)
		}
	}
	if opts.PostgresWriter != nil {
		if err := postgreswriter.SetupWithManager(ctx, mgr, *opts.PostgresWriter); err != nil {
			return nil, fmt.Errorf("setting up the PostgresWriter controller: %w", err)
		}
	}
	return &Manager{Manager: mgr, Registry: registry, Metrics: tugMetrics, Events: endpoint, Dashboard: board, PullModeHub: hub, opts: opts, config: cfg}, nil
}

// shardCache scopes a shard manager's cache of ClusterSummaries to those of its
// clusters (clusters.ShardLabel, written by the selecting manager): its memory and
// watch traffic follow its share of the fleet. The manager without a shard key
// caches them all, since profiles' status counts every summary.
func shardCache(key string) cache.Options {
	if key == "" {
		return cache.Options{}
	}
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&configv1beta1.ClusterSummary{}: {Label: labels.SelectorFromSet(labels.Set{clusters.ShardLabel: key})},
	}}
}

// durationOrNil is nil for zero, so that controller-runtime applies its default.
func durationOrNil(d time.Duration) *time.Duration {
	if d == 0 {
		return nil
	}
	return &d
}

// Start registers the management cluster (when it belongs to this manager's
// shard) and runs the controllers until ctx ends.
func (m *Manager) Start(ctx context.Context) error {
	direct, err := client.New(m.config, client.Options{Scheme: m.GetScheme()})
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	if m.opts.ShardKey == "" {
		if err := clusters.EnsureManagementCluster(ctx, direct, m.opts.ManagementCluster); err != nil {
			return err
		}
	}
	if m.opts.LeaderElection {
		if err := clusters.EnsureNamespace(ctx, direct, m.opts.LeaderElectionNamespace); err != nil {
			return err
		}
	}
	if err := m.recordVersion(ctx, direct); err != nil {
		// Only `tug version` reads it: not a reason to stay down.
		ctrl.Log.WithName("manager").Error(err, "recording the manager version")
	}
	return m.Manager.Start(ctx)
}

// recordVersion writes this manager's version where `tug version` reads it.
func (m *Manager) recordVersion(ctx context.Context, c client.Client) error {
	if err := clusters.EnsureNamespace(ctx, c, m.opts.Namespace); err != nil {
		return err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: m.opts.Namespace, Name: version.ConfigMapName}}
	// Replicas start together: retry when another one wrote it in between.
	if err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		_, err := controllerutil.CreateOrUpdate(ctx, c, cm, func() error {
			cm.Data = map[string]string{"version": version.String()}
			return nil
		})
		return err
	}); err != nil {
		return fmt.Errorf("recording the manager version in ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return nil
}
