package clusterhealth

// The permissions the health controllers need in the management cluster, as
// controller-gen RBAC markers (`make generate` adds them to config/rbac/role.yaml).

// HealthChecks are read; their reports are written in the clusters' namespaces.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=healthchecks,verbs=get;list;watch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=healthcheckreports,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=healthcheckreports/status,verbs=get;update;patch

// ClusterHealthChecks are read and their status written.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=clusterhealthchecks,verbs=get;list;watch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=clusterhealthchecks/status,verbs=get;update;patch

// Notifications read the Secrets named by notificationRef and record Events.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
