// Package v1 holds the demo.yash.com/v1 API: PostgresWriter, a resource whose
// instances are rows of a PostgreSQL table. The group and field names follow the
// kubebuilder tutorial the operator comes from, so its sample applies unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=demo.yash.com
package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "demo.yash.com", Version: "v1"}

	// SchemeBuilder registers the types of this group version with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
