package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PostgresWriterSpec is the row a PostgresWriter keeps in its table.
type PostgresWriterSpec struct {
	// Table is the PostgreSQL table the row lives in, optionally schema-qualified
	// (schema.table). Each part must be a plain SQL identifier (a letter or
	// underscore, then letters, digits or underscores, at most 63 characters) and,
	// as unquoted SQL would, is read case-insensitively. Anything else is reported
	// in the Ready condition (reason InvalidTableName) and nothing is written.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Table string `json:"table"`

	// Name is written to the row's name column.
	// +kubebuilder:validation:Required
	Name string `json:"name"`

	// Age is written to the row's age column.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=2147483647
	Age int32 `json:"age"`

	// Country is written to the row's country column.
	// +kubebuilder:validation:Required
	Country string `json:"country"`
}

// PostgresWriterStatus is the observed state of a PostgresWriter.
type PostgresWriterStatus struct {
	// ObservedGeneration is the generation the conditions were computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Table is the table the row was last written to, as the operator understood
	// spec.table (lower-cased, schema.table when qualified). When spec.table changes
	// the row is moved out of this table; on deletion the row is deleted from it.
	// +optional
	Table string `json:"table,omitempty"`

	// Conditions: Ready tells whether the row matches the spec.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:printcolumn:name="Table",type=string,JSONPath=`.spec.table`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Age",type=integer,JSONPath=`.spec.age`
// +kubebuilder:printcolumn:name="Country",type=string,JSONPath=`.spec.country`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Created",type=date,JSONPath=`.metadata.creationTimestamp`

// PostgresWriter is a row of a PostgreSQL table: the row with id
// "<namespace>/<name>" in spec.table holds spec.name, spec.age and spec.country
// for as long as the resource exists.
type PostgresWriter struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:validation:Required
	Spec   PostgresWriterSpec   `json:"spec"`
	Status PostgresWriterStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PostgresWriterList contains a list of PostgresWriter.
type PostgresWriterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PostgresWriter `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PostgresWriter{}, &PostgresWriterList{})
}

// GetConditions returns the status conditions (internal/conditions.Holder).
func (w *PostgresWriter) GetConditions() *[]metav1.Condition { return &w.Status.Conditions }
