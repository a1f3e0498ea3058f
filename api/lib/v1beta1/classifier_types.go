package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	ClassifierKind                  = "Classifier"
	ClassifierReportKind            = "ClassifierReport"
	ManagementClusterClassifierKind = "ManagementClusterClassifier"

	// ClassifierNameLabel is set on every ClassifierReport to the Classifier it is for.
	ClassifierNameLabel = "projectsveltos.io/classifier-name"
	// ClassifierReportClusterNameLabel is set on every ClassifierReport to its cluster's name.
	ClassifierReportClusterNameLabel = "classifier.projectsveltos.io/cluster-name"
	// ClassifierReportClusterTypeLabel is set on every ClassifierReport to its cluster's type (lower case).
	ClassifierReportClusterTypeLabel = "classifier.projectsveltos.io/cluster-type"
)

// ClassifierLabel is one label a Classifier puts on the clusters it matches.
type ClassifierLabel struct {
	// Key is the label's key: a valid Kubernetes label key (an optional DNS
	// subdomain prefix and "/", then a name of at most 63 characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`
	Key string `json:"key"`
	// Value is the label's value: a valid Kubernetes label value (at most 63
	// characters, alphanumerics, '-', '_' and '.', starting and ending with an
	// alphanumeric; may be empty).
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
	Value string `json:"value"`
}

// DeployedResourceConstraint classifies a cluster by what runs in it.
type DeployedResourceConstraint struct {
	// ResourceSelectors select resources in the cluster. Without
	// AggregatedClassification, the cluster matches when every selector selects
	// at least one resource.
	// +kubebuilder:validation:MinItems=1
	ResourceSelectors []ResourceSelector `json:"resourceSelectors"`

	// AggregatedClassification is a Lua script defining function evaluate(),
	// which receives every selected resource in the global `resources` and
	// returns {matching = bool, message = string}. When set, it alone decides
	// whether the cluster matches.
	// +optional
	AggregatedClassification string `json:"aggregatedClassification,omitempty"`
}

// KubernetesComparison is how a cluster's Kubernetes version is compared.
// +kubebuilder:validation:Enum=Equal;NotEqual;GreaterThan;LessThan;GreaterThanOrEqualTo;LessThanOrEqualTo
type KubernetesComparison string

const (
	ComparisonEqual                KubernetesComparison = "Equal"
	ComparisonNotEqual             KubernetesComparison = "NotEqual"
	ComparisonGreaterThan          KubernetesComparison = "GreaterThan"
	ComparisonLessThan             KubernetesComparison = "LessThan"
	ComparisonGreaterThanOrEqualTo KubernetesComparison = "GreaterThanOrEqualTo"
	ComparisonLessThanOrEqualTo    KubernetesComparison = "LessThanOrEqualTo"
)

// KubernetesVersionConstraint compares the cluster's Kubernetes version
// (major.minor.patch, pre-release and build suffixes ignored) with Version.
type KubernetesVersionConstraint struct {
	// Version to compare with, such as 1.30.0 or v1.30.0 (major.minor is read
	// as major.minor.0; a pre-release or build suffix is ignored).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^v?[0-9]+\.[0-9]+(\.[0-9]+)?([-+].*)?$`
	Version string `json:"version"`
	// Comparison is how the cluster's version must relate to Version.
	Comparison KubernetesComparison `json:"comparison"`
}

// ClassifierSpec says which clusters are classified and with which labels.
// A cluster matches when it meets every constraint given.
type ClassifierSpec struct {
	// DeployedResourceConstraint classifies by the resources in the cluster.
	// +optional
	DeployedResourceConstraint *DeployedResourceConstraint `json:"deployedResourceConstraint,omitempty"`

	// KubernetesVersionConstraints classify by the cluster's Kubernetes version;
	// all must hold.
	// +optional
	KubernetesVersionConstraints []KubernetesVersionConstraint `json:"kubernetesVersionConstraints,omitempty"`

	// ClassifierLabels are put on every matching cluster, and taken off when it
	// no longer matches.
	// +kubebuilder:validation:MinItems=1
	ClassifierLabels []ClassifierLabel `json:"classifierLabels"`
}

// UnManagedLabel is a label a Classifier wants to set but another Classifier manages.
type UnManagedLabel struct {
	// Key of the label.
	Key string `json:"key"`
	// FailureMessage names the Classifier managing it.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
}

// MachingClusterStatus is the state of one matching cluster (the field name keeps
// Sveltos' spelling so its manifests and tools read it unchanged).
type MachingClusterStatus struct {
	// ClusterRef is the matching cluster.
	ClusterRef corev1.ObjectReference `json:"clusterRef"`
	// ManagedLabels are the label keys this Classifier manages on the cluster.
	// +optional
	ManagedLabels []string `json:"managedLabels,omitempty"`
	// UnManagedLabels are the keys it would set but cannot, with the reason.
	// +optional
	UnManagedLabels []UnManagedLabel `json:"unManagedLabels,omitempty"`
}

// ClassifierStatus is what the classifier controller last observed.
type ClassifierStatus struct {
	// MachingClusterStatuses lists the clusters currently matching.
	// +optional
	MachingClusterStatuses []MachingClusterStatus `json:"machingClusterStatuses,omitempty"`
	// ClusterInfo is the evaluation state in each cluster, with the failure if any.
	// +optional
	ClusterInfo []ClusterInfo `json:"clusterInfo,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=classifiers,scope=Cluster
// +kubebuilder:subresource:status
// +kubebuilder:storageversion

// Classifier labels managed clusters from what they are and what they run.
type Classifier struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClassifierSpec   `json:"spec,omitempty"`
	Status ClassifierStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClassifierList is a list of Classifiers.
type ClassifierList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Classifier `json:"items"`
}

// ClassifierReportSpec says whether one cluster matches one Classifier.
type ClassifierReportSpec struct {
	// ClusterNamespace is the cluster's namespace.
	ClusterNamespace string `json:"clusterNamespace"`
	// ClusterName is the cluster's name.
	ClusterName string `json:"clusterName"`
	// ClusterType is the cluster's type.
	ClusterType ClusterType `json:"clusterType"`
	// ClassifierName is the Classifier evaluated.
	ClassifierName string `json:"classifierName"`
	// Match is whether the cluster currently matches.
	Match bool `json:"match"`
}

// ClassifierReportStatus is how far the report has been processed.
type ClassifierReportStatus struct {
	// Phase of the report; Tugboat evaluates in the manager, so its reports are Processed.
	// +optional
	Phase *ReportPhase `json:"phase,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=classifierreports,scope=Namespaced
// +kubebuilder:subresource:status
// +kubebuilder:storageversion

// ClassifierReport records, in the cluster's namespace, whether a cluster
// matches a Classifier. Named <clustertype>--<classifier>--<cluster>.
type ClassifierReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClassifierReportSpec   `json:"spec,omitempty"`
	Status ClassifierReportStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClassifierReportList is a list of ClassifierReports.
type ClassifierReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClassifierReport `json:"items"`
}

// ManagementClusterClassifierSpec labels managed clusters from resources of the
// management cluster.
type ManagementClusterClassifierSpec struct {
	// MatchResources select resources of the management cluster (label, name and
	// namespace filters and per-resource evaluate/evaluateCEL apply).
	// +kubebuilder:validation:MinItems=1
	MatchResources []ResourceSelector `json:"matchResources"`

	// ClassificationLua is a Lua script defining function evaluate(), which
	// receives the selected resources in the global `resources` and returns an
	// array of clusters, each {namespace = ..., name = ..., kind = "SveltosCluster"
	// or "Cluster"}. Entries with a missing or unknown kind are skipped and
	// reported in status.failureMessage.
	// +kubebuilder:validation:MinLength=1
	ClassificationLua string `json:"classificationLua"`

	// ClassifierLabels are put on every cluster the script returns, and taken off
	// when it no longer does.
	// +kubebuilder:validation:MinItems=1
	ClassifierLabels []ClassifierLabel `json:"classifierLabels"`
}

// ManagementClusterClassifierStatus is what the controller last observed.
type ManagementClusterClassifierStatus struct {
	// FailureMessage is the last evaluation's error; cleared on success.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=managementclusterclassifiers,scope=Cluster
// +kubebuilder:subresource:status

// ManagementClusterClassifier labels managed clusters from resources of the
// management cluster, judged by a Lua script.
type ManagementClusterClassifier struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ManagementClusterClassifierSpec   `json:"spec,omitempty"`
	Status ManagementClusterClassifierStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ManagementClusterClassifierList is a list of ManagementClusterClassifiers.
type ManagementClusterClassifierList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManagementClusterClassifier `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Classifier{}, &ClassifierList{},
		&ClassifierReport{}, &ClassifierReportList{},
		&ManagementClusterClassifier{}, &ManagementClusterClassifierList{})
}
