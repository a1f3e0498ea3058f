package support

// The permissions the support controllers need in the management cluster, as
// controller-gen RBAC markers (`make generate` merges them into
// config/rbac/role.yaml and the chart's ClusterRole).

// DebuggingConfigurations are only read.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=debuggingconfigurations,verbs=get;list;watch
// Techsupports: read, status.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=techsupports,verbs=get;list;watch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=techsupports/status,verbs=get;update;patch
// What a collection reads in the management cluster besides the ConfigMaps and
// Secrets the manager already reads: Events, Pods and their logs. Other kinds a
// Techsupport selects need a read right granted separately (the run fails
// naming the missing right).
// +kubebuilder:rbac:groups="",resources=events;pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods/log,verbs=get
// Events about collections, and KubernetesEvent notifications.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
