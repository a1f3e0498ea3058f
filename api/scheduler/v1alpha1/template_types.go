package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TemplateType says which file of an assignment a Template renders.
// +kubebuilder:validation:Enum=reconciler;namespace;config
type TemplateType string

const (
	// TemplateTypeReconciler renders reconciler.yaml.
	TemplateTypeReconciler TemplateType = "reconciler"
	// TemplateTypeNamespace renders namespace.yaml.
	TemplateTypeNamespace TemplateType = "namespace"
	// TemplateTypeConfig renders platform-config.yaml.
	TemplateTypeConfig TemplateType = "config"
)

// ContentType is the kind of text a Template renders.
// +kubebuilder:validation:Enum=yaml;sh
type ContentType string

const (
	// ContentTypeYAML: Kubernetes manifests, joined by "---" (the default).
	ContentTypeYAML ContentType = "yaml"
	// ContentTypeShell: a shell script, the manifests joined by newlines.
	ContentTypeShell ContentType = "sh"
)

// TemplateSpec holds Go templates rendered once per assignment.
type TemplateSpec struct {
	// Type is the file this template renders.
	Type TemplateType `json:"type"`

	// ContentType is the kind of text rendered; yaml when empty.
	// +optional
	ContentType ContentType `json:"contentType,omitempty"`

	// Manifests are Go text/templates (with sprig functions), each rendering one
	// document of the output file.
	// +kubebuilder:validation:MinItems=1
	Manifests []string `json:"manifests"`
}

// TemplateStatus is the observed state of a Template.
type TemplateStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`

// Template is a set of Go templates rendering one file of every assignment of the
// cluster types that name it.
type Template struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TemplateSpec   `json:"spec,omitempty"`
	Status TemplateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TemplateList contains a list of Template.
type TemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Template `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Template{}, &TemplateList{})
}
