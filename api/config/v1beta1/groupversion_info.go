// Package v1beta1 holds the config.projectsveltos.io/v1beta1 API: ClusterProfile and
// Profile (what to deploy where), ClusterSummary (one per profile and matched cluster)
// and ClusterReport (dry-run results). Field names follow the Sveltos API so that its
// manifests apply unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=config.projectsveltos.io
package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "config.projectsveltos.io", Version: "v1beta1"}

	// SchemeBuilder registers the types of this group version with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
