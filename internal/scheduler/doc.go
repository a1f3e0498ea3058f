// Package scheduler turns the manifests of a control-plane repository into the
// files of a platform GitOps repository: deployment targets are built from the
// registered Workloads, SchedulingPolicies assign them to ClusterTypes, the
// platform ConfigMaps matching each assignment are merged and validated, and the
// ClusterType's Templates are rendered per assignment.
//
// The package is pure and deterministic: it reads only the trees it is given
// (fs.FS) and the workloads a WorkloadSource returns, and the same input always
// yields byte-identical output. Git, forges and the CLI live elsewhere.
//
// # Template data contract (version 1)
//
// Every manifest of a Template is a Go text/template executed with:
//
//	.DeploymentTargetName  <workload>-<target>
//	.Namespace             <environment>-<clusterType>-<deploymentTarget>
//	.Environment           the environment being scheduled
//	.Workspace             the WorkloadRegistration's workspace
//	.Workload              the Workload's name
//	.Labels                the deployment target's labels (map[string]string)
//	.Manifests             the target's manifests map: .Manifests.repo, .branch, .path, any extra key
//	.ClusterType           the cluster type's name
//	.ConfigData            the merged platform configuration (map[string]any)
//
// and the sprig function library (without functions that read the clock, the
// process environment, the network or a random source) plus:
//
//	toYaml v     v as YAML, without the trailing newline
//	stringify v  a map as YAML whose values are all strings; nested maps and
//	             lists become YAML text (for ConfigMap data)
//	hash v       the first 16 hex digits of the SHA-256 of v (strings as is,
//	             other values as YAML)
//	unquote s    s without one level of surrounding double or single quotes
//
// Rendering repeats (at most MaxRenderPasses times) while the output still
// contains "{{", so configuration values may themselves hold template text.
package scheduler
