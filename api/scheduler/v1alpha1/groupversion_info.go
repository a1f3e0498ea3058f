// Package v1alpha1 holds the scheduler.kalypso.io/v1alpha1 API: the objects of a
// control-plane repository (Environment, ClusterType, Template, WorkloadRegistration,
// SchedulingPolicy, ConfigSchema, GitOpsRepo, BaseRepo), the Workload an application
// team writes in its own repository, and the scheduler's intermediate results
// (DeploymentTarget, Assignment, AssignmentPackage). Field names follow the Kalypso
// scheduler API so that its manifests load unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=scheduler.kalypso.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "scheduler.kalypso.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this group version with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
