package explain

import (
	"regexp"
	"strconv"
	"strings"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Conflict is an object or Helm release another profile holds in the cluster.
type Conflict struct {
	// Feature is Resources, Helm or Kustomize.
	Feature libv1beta1.FeatureID `json:"feature"`
	// Object is "Kind namespace/name" (or "Kind name"), or "helm release namespace/name".
	Object string `json:"object"`
	// Holder is the profile that keeps it: "ClusterProfile NAME" or "Profile NAME".
	Holder string `json:"holder"`
	// HolderKind and HolderName split Holder.
	HolderKind string `json:"holderKind"`
	HolderName string `json:"holderName"`
	// HolderTier is the holder's tier when the conflict was recorded.
	HolderTier int32 `json:"holderTier"`
	// Message is the summary's message, verbatim.
	Message string `json:"message"`
}

// The messages the engines record for a conflict (internal/deployer for
// objects, internal/helm for releases); the summary stores them verbatim in
// featureSummaries[].failureMessage and helmReleaseSummaries[].conflictMessage.
var (
	objectConflict  = regexp.MustCompile(`conflict on (.+?): deployed by (ClusterProfile|Profile) (\S+) \(tier (-?\d+)\)`)
	releaseConflict = regexp.MustCompile(`release (\S+) is managed by (ClusterProfile|Profile) (\S+) \(tier (-?\d+)\)`)
)

// Conflicts reads the conflicts a ClusterSummary records: in the failure
// messages of its features and in its Helm releases marked Conflict. A
// release's conflict recorded in both places is listed once.
func Conflicts(s *configv1beta1.ClusterSummary) []Conflict {
	var out []Conflict
	seen := map[string]bool{}
	add := func(feature libv1beta1.FeatureID, m []string, object, message string) {
		c := Conflict{Feature: feature, Object: object, HolderKind: m[2], HolderName: m[3], Message: message}
		c.Holder = c.HolderKind + " " + c.HolderName
		if t, err := strconv.ParseInt(m[4], 10, 32); err == nil {
			c.HolderTier = int32(t)
		}
		if k := string(feature) + "\x00" + object + "\x00" + c.Holder; !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	for _, rs := range s.Status.HelmReleaseSummaries {
		if rs.Status != configv1beta1.HelmChartStatusConflict {
			continue
		}
		if m := releaseConflict.FindStringSubmatch(rs.ConflictMessage); m != nil {
			add(libv1beta1.FeatureHelm, m, "helm release "+m[1], rs.ConflictMessage)
		} else {
			// A holder we cannot read: still a conflict on this release.
			c := Conflict{Feature: libv1beta1.FeatureHelm, Object: "helm release " + rs.ReleaseNamespace + "/" + rs.ReleaseName, Message: rs.ConflictMessage}
			if k := string(c.Feature) + "\x00" + c.Object + "\x00"; !seen[k] {
				seen[k] = true
				out = append(out, c)
			}
		}
	}
	for _, fs := range s.Status.FeatureSummaries {
		if fs.FailureMessage == nil {
			continue
		}
		for _, m := range objectConflict.FindAllStringSubmatch(*fs.FailureMessage, -1) {
			add(fs.FeatureID, m, m[1], *fs.FailureMessage)
		}
		for _, m := range releaseConflict.FindAllStringSubmatch(*fs.FailureMessage, -1) {
			add(fs.FeatureID, m, "helm release "+m[1], *fs.FailureMessage)
		}
	}
	return out
}

// onlyConflicts reports whether every line of a failure message is a
// conflict (errors.Join puts one error per line): its conflict steps then say
// all there is.
func onlyConflicts(msg string) bool {
	any := false
	for _, line := range strings.Split(msg, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !objectConflict.MatchString(line) && !releaseConflict.MatchString(line) {
			return false
		}
		any = true
	}
	return any
}
