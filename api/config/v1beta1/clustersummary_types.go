package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ClusterSummarySpec names the cluster and carries the profile spec to apply there.
type ClusterSummarySpec struct {
	// ClusterNamespace is the namespace of the cluster.
	// +kubebuilder:validation:MinLength=1
	ClusterNamespace string `json:"clusterNamespace"`

	// ClusterName is the name of the cluster.
	// +kubebuilder:validation:MinLength=1
	ClusterName string `json:"clusterName"`

	// ClusterType is the type of the cluster.
	ClusterType libv1beta1.ClusterType `json:"clusterType"`

	// ClusterProfileSpec is a copy of the owning profile's spec.
	// +optional
	ClusterProfileSpec Spec `json:"clusterProfileSpec,omitempty"`
}

// FeatureSummary is the deployment state of one feature in the cluster.
type FeatureSummary struct {
	// FeatureID is the feature.
	FeatureID libv1beta1.FeatureID `json:"featureID"`

	// Status is where its deployment stands.
	// +optional
	Status libv1beta1.FeatureStatus `json:"status,omitempty"`

	// Hash covers the spec and the content of everything the feature references, as
	// last deployed successfully.
	// +optional
	Hash []byte `json:"hash,omitempty"`

	// FailureMessage says why the last attempt failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`

	// ConsecutiveFailures counts failed attempts in a row.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`

	// LastAppliedTime is when the feature was last deployed successfully.
	// +optional
	LastAppliedTime *metav1.Time `json:"lastAppliedTime,omitempty"`

	// SourceRevisions are the revisions of the Flux sources (GitRepository,
	// OCIRepository, Bucket) whose content the feature last deployed successfully
	// (a Tugboat addition).
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=namespace
	// +listMapKey=name
	SourceRevisions []SourceRevision `json:"sourceRevisions,omitempty"`
}

// SourceRevision is the artifact revision of one Flux source.
type SourceRevision struct {
	// Kind of the source: GitRepository, OCIRepository or Bucket.
	Kind string `json:"kind"`
	// Namespace of the source.
	Namespace string `json:"namespace"`
	// Name of the source.
	Name string `json:"name"`
	// Revision of its artifact, as the source reports it (e.g. main@sha1:3f2a…).
	Revision string `json:"revision"`
}

// HelmChartStatus says whether this summary manages a release.
// +kubebuilder:validation:Enum=Managing;Conflict
type HelmChartStatus string

const (
	// HelmChartStatusManaging means this summary owns and manages the release.
	HelmChartStatusManaging HelmChartStatus = "Managing"
	// HelmChartStatusConflict means another profile manages the release.
	HelmChartStatusConflict HelmChartStatus = "Conflict"
)

// HelmChartSummary is the state of one Helm release of the summary.
type HelmChartSummary struct {
	// ReleaseName is the release's name.
	ReleaseName string `json:"releaseName"`

	// ReleaseNamespace is the release's namespace.
	ReleaseNamespace string `json:"releaseNamespace"`

	// Status is Managing or Conflict.
	Status HelmChartStatus `json:"status"`

	// ConflictMessage names the profile that manages the release, when in conflict.
	// +optional
	ConflictMessage string `json:"conflictMessage,omitempty"`

	// ValuesHash is the hash of the rendered values last installed.
	// +optional
	ValuesHash []byte `json:"valuesHash,omitempty"`
}

// FeatureDeploymentInfo lists the kinds of object a feature deployed, used to find
// what to clean up.
type FeatureDeploymentInfo struct {
	// FeatureID is the feature.
	FeatureID libv1beta1.FeatureID `json:"featureID"`

	// DeployedGroupVersionKind are the kinds deployed, as Kind.version.group
	// (the form schema.ParseKindArg reads).
	// +optional
	DeployedGroupVersionKind []string `json:"deployedGroupVersionKind,omitempty"`
}

// FeatureDeployedObjects records the objects one feature deployed (a Tugboat
// addition to the Sveltos API).
type FeatureDeployedObjects struct {
	// FeatureID is the feature (Resources or Kustomize; Helm releases are
	// recorded in helmReleaseSummaries).
	FeatureID libv1beta1.FeatureID `json:"featureID"`

	// Remote are the objects in the summary's cluster (for a summary of the
	// management cluster itself, its Local objects too).
	// +optional
	// +listType=atomic
	Remote []DeployedObject `json:"remote,omitempty"`

	// Local are the objects deployed with deploymentType Local into the
	// management cluster.
	// +optional
	// +listType=atomic
	Local []DeployedObject `json:"local,omitempty"`
}

// DeployedObject names one deployed object and, once applied, the UID and
// resourceVersion the API server answered with.
type DeployedObject struct {
	// APIVersion of the object.
	APIVersion string `json:"apiVersion"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object; empty for a cluster-scoped object.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// UID of the object as last applied; empty while its apply is under way.
	// +optional
	UID string `json:"uid,omitempty"`
	// ResourceVersion of the object as last applied: withdrawal deletes on
	// condition that it is unchanged and reads the object again otherwise.
	// +optional
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Hash is the value of the hash annotation (projectsveltos.io/hash) the
	// object was last applied with (a Tugboat addition). When a redeploy brings
	// different content, the deployer applies it at once, without reading the
	// object first, on condition that the object is still at resourceVersion;
	// when it changed since (edited, taken over, deleted), the deployer reads it
	// and decides as for an object it never recorded. Empty while the object's
	// first apply is under way.
	// +optional
	Hash string `json:"hash,omitempty"`
}

// ClusterSummaryStatus is the deployment state of the profile in the cluster.
type ClusterSummaryStatus struct {
	// FeatureSummaries hold one entry per feature the profile uses.
	// +optional
	// +listType=map
	// +listMapKey=featureID
	FeatureSummaries []FeatureSummary `json:"featureSummaries,omitempty"`

	// HelmReleaseSummaries hold one entry per Helm release of the profile.
	// +optional
	// +listType=map
	// +listMapKey=releaseNamespace
	// +listMapKey=releaseName
	HelmReleaseSummaries []HelmChartSummary `json:"helmReleaseSummaries,omitempty"`

	// DeployedGVKs lists, per feature, the kinds of object deployed.
	// +optional
	// +listType=map
	// +listMapKey=featureID
	DeployedGVKs []FeatureDeploymentInfo `json:"deployedGVKs,omitempty"`

	// DeployedObjects records, per feature, every object the Resources and
	// Kustomize features deployed, in the summary's cluster and in the management
	// cluster (a Tugboat addition). It is written ahead: an object is recorded
	// before it is first applied, and leaves the record only once its deletion is
	// acknowledged, so that a manager stopped at any point leaks nothing.
	// Redeploys clean up and withdrawal deletes from this record, one request per
	// object, without listing the cluster. A feature without an entry (a summary
	// written by an older Tugboat) is found once by listing the kinds of
	// deployedGVKs, then recorded.
	// +optional
	// +listType=map
	// +listMapKey=featureID
	DeployedObjects []FeatureDeployedObjects `json:"deployedObjects,omitempty"`

	// Dependencies says which profiles in dependsOn are not yet Provisioned here.
	// +optional
	Dependencies *string `json:"dependencies,omitempty"`

	// FailureMessage reports a failure not tied to one feature.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`

	// ObservedGeneration is the generation of the spec the feature statuses
	// describe (Tugboat's addition: it tells a rollout when a cluster has
	// caught up with a changed profile).
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// ClusterSummary is the state of one profile in one cluster. The profile controller
// creates one per matched cluster, in the cluster's namespace, named by
// ClusterSummaryName and owned by the profile; the deployer reconciles it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clustersummaries,scope=Namespaced,categories=tugboat
// +kubebuilder:printcolumn:name="HelmCharts",type="string",JSONPath=`.status.featureSummaries[?(@.featureID=="Helm")].status`,description="Status of the Helm feature"
// +kubebuilder:printcolumn:name="KustomizeRefs",type="string",JSONPath=`.status.featureSummaries[?(@.featureID=="Kustomize")].status`,description="Status of the Kustomize feature"
// +kubebuilder:printcolumn:name="PolicyRefs",type="string",JSONPath=`.status.featureSummaries[?(@.featureID=="Resources")].status`,description="Status of the Resources feature"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".spec.clusterName",priority=1
// +kubebuilder:printcolumn:name="Message",type="string",JSONPath=".status.failureMessage",priority=1
type ClusterSummary struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterSummarySpec   `json:"spec,omitempty"`
	Status ClusterSummaryStatus `json:"status,omitempty"`
}

// Cluster names the cluster the summary deploys to.
func (s *ClusterSummary) Cluster() libv1beta1.ClusterID {
	return libv1beta1.ClusterID{Type: s.Spec.ClusterType, Namespace: s.Spec.ClusterNamespace, Name: s.Spec.ClusterName}.Normal()
}

// FeatureSummary returns the entry for a feature, or nil.
func (s *ClusterSummary) FeatureSummary(id libv1beta1.FeatureID) *FeatureSummary {
	for i := range s.Status.FeatureSummaries {
		if s.Status.FeatureSummaries[i].FeatureID == id {
			return &s.Status.FeatureSummaries[i]
		}
	}
	return nil
}

// +kubebuilder:object:root=true

// ClusterSummaryList is a list of ClusterSummaries.
type ClusterSummaryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterSummary `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterSummary{}, &ClusterSummaryList{})
}
