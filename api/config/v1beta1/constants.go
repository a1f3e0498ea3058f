package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Kinds of this group.
const (
	ClusterProfileKind = "ClusterProfile"
	ProfileKind        = "Profile"
	ClusterSummaryKind = "ClusterSummary"
	ClusterReportKind  = "ClusterReport"
)

// Labels on ClusterSummaries (and ClusterReports), used to find them.
const (
	// ClusterProfileNameLabel is the name of the owning ClusterProfile.
	ClusterProfileNameLabel = "projectsveltos.io/cluster-profile-name"
	// ProfileNameLabel is the name of the owning Profile.
	ProfileNameLabel = "projectsveltos.io/profile-name"
	// ClusterNameLabel is the name of the cluster.
	ClusterNameLabel = "projectsveltos.io/cluster-name"
	// ClusterTypeLabel is the type of the cluster (Sveltos).
	ClusterTypeLabel = "projectsveltos.io/cluster-type"
)

// PausedAnnotation (any value) on a ClusterProfile or Profile stops Tugboat from
// acting on it until removed.
const PausedAnnotation = "profile.projectsveltos.io/paused"

// Separators in the names of generated objects.
const (
	// ProfilePrefix starts the names of objects generated for a Profile, so they never
	// collide with those of a ClusterProfile of the same name.
	ProfilePrefix = "p--"
	// summaryInfix joins profile and cluster in a ClusterSummary name
	// (capiSummaryInfix for a Cluster API cluster).
	summaryInfix     = "-sveltos-"
	capiSummaryInfix = "-capi-"
	// reportInfix joins profile and cluster in a ClusterReport name
	// (capiReportInfix for a Cluster API cluster).
	reportInfix     = "--sveltos--"
	capiReportInfix = "--capi--"
)

// ClusterSummaryName is the name of the ClusterSummary of a profile in a
// SveltosCluster: <profile>-sveltos-<cluster> for a ClusterProfile,
// p--<profile>-sveltos-<cluster> for a Profile. Over-long names are shortened
// deterministically (libv1beta1.BoundedName).
func ClusterSummaryName(profileKind, profileName, clusterName string) string {
	return ClusterSummaryNameFor(profileKind, profileName, libv1beta1.SveltosClusterID("", clusterName))
}

// ClusterSummaryNameFor is the name of the ClusterSummary of a profile in a
// cluster of either kind: as ClusterSummaryName, with -capi- instead of
// -sveltos- for a Cluster API cluster.
func ClusterSummaryNameFor(profileKind, profileName string, cluster libv1beta1.ClusterID) string {
	infix := summaryInfix
	if cluster.IsCAPI() {
		infix = capiSummaryInfix
	}
	return libv1beta1.BoundedName(profileKindPrefix(profileKind) + profileName + infix + cluster.Name)
}

// ClusterReportName is the name of the ClusterReport of a profile in a
// SveltosCluster: <profile>--sveltos--<cluster>, with the p-- prefix for a Profile.
func ClusterReportName(profileKind, profileName, clusterName string) string {
	return ClusterReportNameFor(profileKind, profileName, libv1beta1.SveltosClusterID("", clusterName))
}

// ClusterReportNameFor is ClusterReportName for a cluster of either kind
// (--capi-- instead of --sveltos-- for a Cluster API cluster).
func ClusterReportNameFor(profileKind, profileName string, cluster libv1beta1.ClusterID) string {
	infix := reportInfix
	if cluster.IsCAPI() {
		infix = capiReportInfix
	}
	return libv1beta1.BoundedName(profileKindPrefix(profileKind) + profileName + infix + cluster.Name)
}

// ProfileLabel is the ClusterSummary label that names a profile of the given kind.
func ProfileLabel(profileKind string) string {
	if profileKind == ProfileKind {
		return ProfileNameLabel
	}
	return ClusterProfileNameLabel
}

func profileKindPrefix(profileKind string) string {
	if profileKind == ProfileKind {
		return ProfilePrefix
	}
	return ""
}

// ProfileRef names the ClusterProfile or Profile a ClusterSummary or
// ClusterReport belongs to. It is not an API type (no deep copy).
// +kubebuilder:object:generate=false
type ProfileRef struct {
	// Kind is ClusterProfileKind or ProfileKind.
	Kind string
	// Namespace is a Profile's namespace; empty for a ClusterProfile.
	Namespace string
	Name      string
}

// ProfileOf reads the profile labels of a ClusterSummary or ClusterReport (a
// Profile's objects live in its namespace); ok is false when it carries none.
func ProfileOf(obj metav1.Object) (p ProfileRef, ok bool) {
	labels := obj.GetLabels()
	if n := labels[ProfileNameLabel]; n != "" {
		return ProfileRef{Kind: ProfileKind, Namespace: obj.GetNamespace(), Name: n}, true
	}
	if n := labels[ClusterProfileNameLabel]; n != "" {
		return ProfileRef{Kind: ClusterProfileKind, Name: n}, true
	}
	return ProfileRef{}, false
}

// String is ClusterProfile/<name> or Profile/<namespace>/<name>.
func (p ProfileRef) String() string {
	if p.Kind == ProfileKind {
		return p.Kind + "/" + p.Namespace + "/" + p.Name
	}
	return p.Kind + "/" + p.Name
}
