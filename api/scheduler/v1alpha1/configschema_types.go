package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConfigSchemaSpec holds a JSON Schema for platform configuration.
type ConfigSchemaSpec struct {
	// Schema is a JSON Schema (draft 2020-12 unless it says otherwise with $schema),
	// written inline as an object, or as a string holding JSON or YAML.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	Schema apiextensionsv1.JSON `json:"schema"`
}

// ConfigSchemaStatus is the observed state of a ConfigSchema.
type ConfigSchemaStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced

// ConfigSchema validates the platform configuration of the deployment targets on the
// cluster types whose labels match its own (labels as for platform ConfigMaps), and of
// the targets naming it in configSchemas.
type ConfigSchema struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ConfigSchemaSpec   `json:"spec,omitempty"`
	Status ConfigSchemaStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ConfigSchemaList contains a list of ConfigSchema.
type ConfigSchemaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ConfigSchema `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ConfigSchema{}, &ConfigSchemaList{})
}
