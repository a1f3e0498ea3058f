// Package v1beta1 holds the lib.projectsveltos.io/v1beta1 API: the cluster registry
// (SveltosCluster, ClusterSet, Set) and the event API (EventSource, EventTrigger,
// EventReport). Field names follow the Sveltos API so that its manifests apply unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=lib.projectsveltos.io
package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "lib.projectsveltos.io", Version: "v1beta1"}

	// SchemeBuilder registers the types of this group version with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
