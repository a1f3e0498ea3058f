package classifier

// The permissions the classifier controllers need in the management cluster, as
// controller-gen RBAC markers (`make generate` merges them into
// config/rbac/role.yaml and the chart's ClusterRole).

// Classifiers and ManagementClusterClassifiers: read, status, finalizer.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=classifiers;managementclusterclassifiers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=classifiers/status;managementclusterclassifiers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=classifiers/finalizers;managementclusterclassifiers/finalizers,verbs=update
// One ClassifierReport per Classifier and cluster, in the cluster's namespace.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=classifierreports,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=classifierreports/status,verbs=get;update;patch
// The labels a classifier manages, on the clusters of either kind.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=sveltosclusters,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters,verbs=get;list;watch;patch
// Events about conflicts and failed evaluations.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
