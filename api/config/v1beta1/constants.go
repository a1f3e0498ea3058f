package v1beta1

import (
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
	// summaryInfix joins profile and cluster in a ClusterSummary name.
	summaryInfix = "-sveltos-"
	// reportInfix joins profile and cluster in a ClusterReport name.
	reportInfix = "--sveltos--"
)

// ClusterSummaryName is the name of the ClusterSummary of a profile in a cluster:
// <profile>-sveltos-<cluster> for a ClusterProfile, p--<profile>-sveltos-<cluster>
// for a Profile. Over-long names are shortened deterministically (libv1beta1.BoundedName).
func ClusterSummaryName(profileKind, profileName, clusterName string) string {
	return libv1beta1.BoundedName(profileKindPrefix(profileKind) + profileName + summaryInfix + clusterName)
}

// ClusterReportName is the name of the ClusterReport of a profile in a cluster:
// <profile>--sveltos--<cluster>, with the p-- prefix for a Profile.
func ClusterReportName(profileKind, profileName, clusterName string) string {
	return libv1beta1.BoundedName(profileKindPrefix(profileKind) + profileName + reportInfix + clusterName)
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
