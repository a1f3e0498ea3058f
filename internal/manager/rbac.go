package manager

// The permissions the manager needs in the management cluster, as controller-gen
// RBAC markers: `make generate` turns these (and the cluster controller's, in
// internal/clusters) into config/rbac/role.yaml. The Helm chart's ClusterRole
// carries the same rules; test/install checks that they agree.
//
// Deploying into the management cluster itself (Local deployments, or the
// management cluster as a target) needs the rights of whatever is deployed; those
// are granted separately (see the chart's managementClusterAdmin value), not here.

// Profiles and their per-cluster summaries and reports.
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=profiles,verbs=get;list;watch;update;patch
// EventTriggers generate ClusterProfiles, hence create and delete.
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clusterprofiles,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clusterprofiles/status;profiles/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clusterprofiles/finalizers;profiles/finalizers,verbs=update
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clustersummaries;clusterreports,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clustersummaries/status;clusterreports/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clustersummaries/finalizers,verbs=update

// Clusters, cluster sets and the event engine.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=clustersets;sets,verbs=get;list;watch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=clustersets/status;sets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=eventsources,verbs=get;list;watch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=eventtriggers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=eventtriggers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=eventtriggers/finalizers,verbs=update
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=eventreports,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=eventreports/status,verbs=get;update;patch

// Referenced policies (ConfigMaps and Secrets named by profiles, kubeconfig Secrets).
// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=get;list;watch
// Flux sources named by profiles (their artifacts are downloaded from source-controller).
// +kubebuilder:rbac:groups=source.toolkit.fluxcd.io,resources=gitrepositories;ocirepositories;buckets,verbs=get;list;watch

// The scheduler's inputs (read only) and the example PostgresWriter operator.
// +kubebuilder:rbac:groups=scheduler.kalypso.io,resources=*,verbs=get;list;watch
// +kubebuilder:rbac:groups=demo.yash.com,resources=postgreswriters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=demo.yash.com,resources=postgreswriters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=demo.yash.com,resources=postgreswriters/finalizers,verbs=update

// In the manager's own namespace only: the leader election Lease, the core/v1
// events controller-runtime's leader election records next to it, and the
// ConfigMaps/Secrets EventTriggers instantiate (Options.Namespace).
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete,namespace=projectsveltos
// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=get;list;watch;create;update;patch;delete,namespace=projectsveltos
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch,namespace=projectsveltos
