package v1alpha1

// Well-known label keys used by the scheduler.
const (
	// PlatformConfigLabel marks a ConfigMap of the control-plane repository as
	// platform configuration (value "true").
	PlatformConfigLabel = "platform-config"
	// ClusterTypeLabel, in a platform ConfigMap, restricts it to one cluster type.
	ClusterTypeLabel = "cluster-type"
	// DeploymentTargetLabel, in a platform ConfigMap, restricts it to one deployment target.
	DeploymentTargetLabel = "deployment-target"
	// WorkloadLabel is set on every deployment target to its workload's name; in a
	// platform ConfigMap it restricts the map to one workload.
	WorkloadLabel = "workload"
	// WorkspaceLabel is set on every deployment target to its registration's workspace.
	WorkspaceLabel = "workspace"
)

// Labels of the registered clusters (SveltosCluster objects in the management
// cluster; a Tugboat extension of the Kalypso model). A cluster labelled with both
// is a member of that cluster type in that environment: the cluster type's folder
// of the environment's branch of the platform GitOps repository is delivered to
// it, and the environment is compliant with a commit when every member runs it.
// `tug register cluster --labels` sets them.
const (
	// MemberClusterTypeLabel names the cluster type a cluster belongs to.
	MemberClusterTypeLabel = "scheduler.kalypso.io/cluster-type"
	// MemberEnvironmentLabel names the environment a cluster belongs to.
	MemberEnvironmentLabel = "scheduler.kalypso.io/environment"
)

// DeliveryLabel, on a ClusterType (in the control-plane repository), says who
// brings the cluster type's folder of the platform GitOps repository into its
// member clusters (a Tugboat extension):
//
//   - DeliveryTugboat (or no label): Tugboat, through a generated ClusterProfile
//     over a Flux GitRepository of the platform repository's branch;
//   - DeliveryFlux: a Flux Kustomization inside each member cluster, which Tugboat
//     only reads (status.lastAppliedRevision and the Ready condition);
//   - DeliveryArgoCD: an Argo CD Application inside each member cluster, which
//     Tugboat only reads (status.sync.revision, sync and health status).
//
// The in-cluster object is named by ReconcilerObjectAnnotation, by default
// flux-system/platform (Kustomization) or argocd/platform (Application).
const (
	DeliveryLabel   = "scheduler.kalypso.io/delivery"
	DeliveryTugboat = "tugboat"
	DeliveryFlux    = "flux"
	DeliveryArgoCD  = "argocd"
	// ReconcilerObjectAnnotation, on a ClusterType delivered by Flux or Argo CD,
	// is "<namespace>/<name>" of the in-cluster Kustomization or Application that
	// reconciles the cluster type's folder.
	ReconcilerObjectAnnotation = "scheduler.kalypso.io/reconciler-object"
	// DefaultReconcilerName is the in-cluster object's default name (namespace
	// flux-system for Flux, argocd for Argo CD).
	DefaultReconcilerName = "platform"
)

// RepositoryReference points at a folder on a branch of a git repository.
type RepositoryReference struct {
	// Repo is the repository URL (https://, ssh, file:// or a local path).
	// +kubebuilder:validation:MinLength=1
	Repo string `json:"repo"`

	// Branch is the branch to read or write.
	// +kubebuilder:validation:MinLength=1
	Branch string `json:"branch"`

	// Path is the folder inside the repository ("." for the root).
	// +kubebuilder:validation:MinLength=1
	Path string `json:"path"`
}
