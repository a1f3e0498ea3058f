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
