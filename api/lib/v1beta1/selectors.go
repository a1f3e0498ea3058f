package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// LabelFilterOperation is how a label filter compares.
// +kubebuilder:validation:Enum=Equal;Different;Has;DoesNotHave
type LabelFilterOperation string

const (
	OperationEqual       LabelFilterOperation = "Equal"
	OperationDifferent   LabelFilterOperation = "Different"
	OperationHas         LabelFilterOperation = "Has"
	OperationDoesNotHave LabelFilterOperation = "DoesNotHave"
)

// LabelFilter matches resources by one label.
type LabelFilter struct {
	// Key is the label key.
	Key string `json:"key"`
	// Operation is Equal, Different, Has or DoesNotHave.
	Operation LabelFilterOperation `json:"operation"`
	// Value is compared for Equal and Different.
	// +optional
	Value string `json:"value,omitempty"`
}

// CELRule is a named CEL expression over the variable `resource`.
type CELRule struct {
	// Name identifies the rule in messages.
	Name string `json:"name"`
	// Rule is the CEL expression; the resource matches if it is true.
	Rule string `json:"rule"`
}

// ResourceSelector selects resources of one kind in a cluster.
type ResourceSelector struct {
	// Group of the resources; empty for the core group.
	// +optional
	Group string `json:"group"`
	// Version of the resources.
	Version string `json:"version"`
	// Kind of the resources.
	// +kubebuilder:validation:MinLength=1
	Kind string `json:"kind"`
	// Namespace restricts the selection to one namespace; empty means all.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name restricts the selection to one name.
	// +optional
	Name string `json:"name,omitempty"`
	// LabelFilters are ANDed.
	// +optional
	LabelFilters []LabelFilter `json:"labelFilters,omitempty"`
	// Selector is a standard label selector, ANDed with LabelFilters.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	// Evaluate is a Lua script defining function evaluate() that returns {matching=bool, message=string}.
	// +optional
	Evaluate string `json:"evaluate,omitempty"`
	// EvaluateCEL are CEL rules; the resource matches if any is true.
	// +optional
	EvaluateCEL []CELRule `json:"evaluateCEL,omitempty"`
}

// Selector picks clusters by their labels. It embeds a standard label selector, so
// manifests write matchLabels and matchExpressions directly under the field.
// Unlike a plain label selector, an empty Selector matches no cluster at all.
type Selector struct {
	metav1.LabelSelector `json:",inline"`
}

// IsEmpty reports whether the selector has neither matchLabels nor matchExpressions.
func (s *Selector) IsEmpty() bool {
	return s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0)
}

// AsLabelSelector converts the selector for matching. An empty Selector yields
// labels.Nothing(), following the rule that it selects no cluster.
func (s *Selector) AsLabelSelector() (labels.Selector, error) {
	if s.IsEmpty() {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(&s.LabelSelector)
}
