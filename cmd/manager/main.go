// Command manager runs every Tugboat controller against the management cluster
// named by --kubeconfig / KUBECONFIG / in-cluster configuration.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/manager"
	"github.com/tugboat-dev/tugboat/internal/postgreswriter"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
	"github.com/tugboat-dev/tugboat/internal/support"
)

func main() {
	opts := manager.DefaultOptions()
	var mgmtNamespace, mgmtName string
	fs := pflag.CommandLine
	fs.StringVar(&opts.MetricsAddr, "metrics-bind-address", opts.MetricsAddr, "address of the Prometheus metrics endpoint (0 disables it)")
	fs.StringVar(&opts.PprofAddr, "pprof-bind-address", opts.PprofAddr, "address serving Go's /debug/pprof/ profiles, for measuring (empty: not served)")
	fs.StringVar(&opts.ProbeAddr, "health-probe-bind-address", opts.ProbeAddr, "address of /healthz and /readyz (0 disables them)")
	fs.BoolVar(&opts.LeaderElection, "leader-elect", opts.LeaderElection, "elect one active replica through a Lease")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", opts.LeaderElectionNamespace, "namespace of the leader election Lease")
	fs.StringVar(&opts.ShardKey, "shard-key", opts.ShardKey, "handle only clusters annotated sharding.projectsveltos.io/key=<key> (empty: the unsharded ones, and selection — profiles and their ClusterSummaries — for every shard)")
	fs.StringVar(&mgmtNamespace, "management-cluster-namespace", opts.ManagementCluster.Namespace, "namespace of the SveltosCluster standing for the management cluster")
	fs.StringVar(&mgmtName, "management-cluster-name", opts.ManagementCluster.Name, "name of the SveltosCluster standing for the management cluster")
	fs.DurationVar(&opts.ProbeInterval, "cluster-probe-interval", opts.ProbeInterval, "how often healthy clusters are probed")
	fs.DurationVar(&opts.HealthMetricsInterval, "health-metrics-interval", opts.HealthMetricsInterval, "how often health checks with a metricSource query Prometheus and run again")
	fs.IntVar(&opts.Concurrency, "concurrency", opts.Concurrency, "objects reconciled at once per controller")
	fs.DurationVar(&opts.CacheSyncTimeout, "cache-sync-timeout", opts.CacheSyncTimeout, "how long controllers wait for their caches of the management cluster to fill at start before the manager exits (a large, busy management cluster takes longer than controller-runtime's 2m)")
	wi := clusters.DefaultWorkloadIdentityCommands()
	fs.StringVar(&opts.WorkloadIdentityCommands.AWS, "workload-identity-aws-command", wi.AWS, "credential plugin run for SveltosClusters with workloadIdentity provider AWS (as \"aws eks get-token\")")
	fs.StringVar(&opts.WorkloadIdentityCommands.GCP, "workload-identity-gcp-command", wi.GCP, "credential plugin run for SveltosClusters with workloadIdentity provider GCP")
	fs.StringVar(&opts.WorkloadIdentityCommands.Azure, "workload-identity-azure-command", wi.Azure, "credential plugin run for SveltosClusters with workloadIdentity provider Azure (as \"kubelogin get-token\")")
	fs.StringVar(&opts.HelmCacheDir, "helm-cache-dir", opts.HelmCacheDir, "folder caching downloaded Helm charts (default: tugboat-helm in the temporary directory)")
	fs.StringVar(&opts.LeaderElectionID, "leader-election-id", opts.LeaderElectionID, "name of the leader election Lease (a shard key is appended)")
	fs.DurationVar(&opts.LeaseDuration, "leader-election-lease-duration", opts.LeaseDuration, "how long a standby waits before taking over a lease that is not renewed (0: 15s)")
	fs.DurationVar(&opts.RenewDeadline, "leader-election-renew-deadline", opts.RenewDeadline, "how long the leader keeps trying to renew before giving up (0: 10s)")
	fs.DurationVar(&opts.RetryPeriod, "leader-election-retry-period", opts.RetryPeriod, "how often leader election is retried (0: 2s)")
	var enablePostgresWriter bool
	pgw := postgreswriter.Options{}
	fs.BoolVar(&enablePostgresWriter, "enable-postgres-writer", false, "run the example PostgresWriter operator (demo.yash.com/v1)")
	pgw.BindFlags(fs)
	fs.BoolVar(&opts.Scheduler, "enable-scheduler", false, "run the GitOps scheduler controller (GitOpsRepos with spec.controlPlane)")
	fs.StringVar(&opts.SchedulerWebhookAddress, "scheduler-webhook-address", "", "address serving POST /hooks/scheduler/<namespace>/<name> (empty: no webhook)")
	var schedulerWebhookSecretFile string
	fs.StringVar(&schedulerWebhookSecretFile, "scheduler-webhook-secret-file", "", "file holding the secret scheduler hooks must be signed with (X-Hub-Signature-256, as GitHub does)")
	evOpts := events.HTTPOptions{}
	var eventsTokenSecret string
	fs.StringVar(&evOpts.Address, "events-bind-address", "", "address serving CloudEvents at POST /events/<namespace>/<cluster> (empty: no endpoint)")
	fs.StringVar(&eventsTokenSecret, "events-token-secret", "", "namespace/name of the Secret whose key \"token\" callers of the CloudEvents endpoint present as a bearer token")
	fs.StringVar(&evOpts.TLSCertFile, "events-tls-cert-file", "", "certificate the CloudEvents endpoint serves HTTPS with")
	fs.StringVar(&evOpts.TLSKeyFile, "events-tls-key-file", "", "key of --events-tls-cert-file")
	fs.StringVar(&evOpts.ClientCAFile, "events-client-ca-file", "", "CA bundle: a client certificate it signed authenticates a caller of the CloudEvents endpoint (mutual TLS)")
	hubOpts := pullmode.HubOptions{}
	fs.StringVar(&hubOpts.Address, "pullmode-hub-address", "", "address where the agents of SveltosClusters in pull mode connect (HTTPS), e.g. :8443 (empty: pull mode is off, such clusters fail their probe saying so)")
	fs.StringVar(&hubOpts.TLSCertFile, "pullmode-hub-cert-file", "", "certificate the pull-mode hub serves (default: one of its own, signed by the CA in Secret <namespace>/tugboat-pullmode-hub, created at the first start)")
	fs.StringVar(&hubOpts.TLSKeyFile, "pullmode-hub-key-file", "", "key of --pullmode-hub-cert-file")
	fs.StringSliceVar(&hubOpts.Hosts, "pullmode-hub-host", nil, "DNS name or IP address agents reach the hub by, added to its own certificate (repeatable; localhost and 127.0.0.1 are always in it)")
	var dashboardAddress, dashboardTokenSecret, dashboardAuth string
	fs.StringVar(&dashboardAddress, "dashboard-bind-address", "", "address serving the read-only web dashboard, e.g. 127.0.0.1:8090 (empty: none)")
	fs.StringVar(&dashboardAuth, "dashboard-auth", dashboard.AuthToken, "how dashboard users log in: \"token\" (the shared token of --dashboard-token-secret) or \"kubernetes\" (each user's own bearer token, checked with a TokenReview; every read checked with a SubjectAccessReview for that user)")
	fs.StringVar(&dashboardTokenSecret, "dashboard-token-secret", "", "namespace/name of the Secret whose key \"token\" logs users in to the dashboard, created with a random token when missing (default: <manager namespace>/tugboat-dashboard)")
	var apiQPS float64
	var apiBurst int
	fs.Float64Var(&apiQPS, "kube-api-qps", 100, "requests per second the manager may send to the management cluster (client-go's rate limit; a fleet of N clusters writes a few objects per cluster on every change)")
	fs.IntVar(&apiBurst, "kube-api-burst", 200, "burst above --kube-api-qps the manager may send to the management cluster")
	fs.StringVar(&opts.TechsupportDir, "techsupport-dir", "", "folder Techsupport archives are written to (default: tugboat-techsupport in the temporary directory)")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	fs.AddGoFlagSet(flag.CommandLine) // also brings controller-runtime's --kubeconfig
	pflag.Parse()
	opts.ManagementCluster = types.NamespacedName{Namespace: mgmtNamespace, Name: mgmtName}
	if schedulerWebhookSecretFile != "" {
		secret, err := os.ReadFile(schedulerWebhookSecretFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
			os.Exit(1)
		}
		opts.SchedulerWebhookSecret = bytes.TrimSpace(secret)
	}
	if evOpts.Address != "" {
		if eventsTokenSecret != "" {
			ns, name, ok := strings.Cut(eventsTokenSecret, "/")
			if !ok || ns == "" || name == "" {
				fmt.Fprintln(os.Stderr, "manager: --events-token-secret: want namespace/name")
				os.Exit(2)
			}
			evOpts.TokenSecret = types.NamespacedName{Namespace: ns, Name: name}
		}
		if err := evOpts.Check(); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
			os.Exit(2)
		}
		opts.Events = &evOpts
	}
	if hubOpts.Address != "" {
		opts.PullMode = &hubOpts
	}
	if dashboardAddress != "" {
		if dashboardAuth != dashboard.AuthToken && dashboardAuth != dashboard.AuthKubernetes {
			fmt.Fprintf(os.Stderr, "manager: --dashboard-auth %q: want %q or %q\n", dashboardAuth, dashboard.AuthToken, dashboard.AuthKubernetes)
			os.Exit(2)
		}
		opts.Dashboard = &dashboard.Options{Address: dashboardAddress, Auth: dashboardAuth}
		if dashboardTokenSecret != "" {
			ns, name, ok := strings.Cut(dashboardTokenSecret, "/")
			if !ok || ns == "" || name == "" {
				fmt.Fprintf(os.Stderr, "manager: --dashboard-token-secret %q: want namespace/name\n", dashboardTokenSecret)
				os.Exit(2)
			}
			opts.Dashboard.TokenSecret = types.NamespacedName{Namespace: ns, Name: name}
		}
	}
	if enablePostgresWriter {
		opts.PostgresWriter = &pgw
	}
	// The logger lets every level through to a LevelSink, which filters per
	// component: the startup level (--zap-log-level) unless the
	// DebuggingConfiguration "default" sets another.
	opts.LogLevels = support.NewLogLevels()
	startup := support.StartupVerbosity(zapOpts.Level, zapOpts.Development)
	zapOpts.Level = zapcore.Level(-max(support.MostVerbose, startup))
	ctrl.SetLogger(support.NewLevelLogger(zap.New(zap.UseFlagOptions(&zapOpts)), startup, opts.LogLevels))

	ctx := ctrl.SetupSignalHandler()
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager: no management cluster configuration:", err)
		os.Exit(1)
	}
	cfg.QPS, cfg.Burst = float32(apiQPS), apiBurst
	mgr, err := manager.New(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
	if err := mgr.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}
