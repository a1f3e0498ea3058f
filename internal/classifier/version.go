package classifier

import (
	"fmt"
	"strconv"
	"strings"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// kubeVersion is a Kubernetes version reduced to what classification compares:
// major, minor and patch (pre-release and build suffixes dropped).
type kubeVersion struct{ major, minor, patch int }

func (v kubeVersion) String() string { return fmt.Sprintf("v%d.%d.%d", v.major, v.minor, v.patch) }

// parseKubeVersion reads "1.30.2", "v1.30.2", "v1.30.2-eks-1+abc" or "1.30"
// (patch 0).
func parseKubeVersion(s string) (kubeVersion, error) {
	raw := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return kubeVersion{}, fmt.Errorf("version %q: want major.minor.patch", raw)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return kubeVersion{}, fmt.Errorf("version %q: %q is not a number", raw, p)
		}
		nums[i] = n
	}
	return kubeVersion{major: nums[0], minor: nums[1], patch: nums[2]}, nil
}

func (v kubeVersion) compare(o kubeVersion) int {
	for _, d := range []int{v.major - o.major, v.minor - o.minor, v.patch - o.patch} {
		if d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

// versionConstraint is a compiled KubernetesVersionConstraint.
type versionConstraint struct {
	version    kubeVersion
	comparison libv1beta1.KubernetesComparison
}

func compileVersionConstraints(in []libv1beta1.KubernetesVersionConstraint) ([]versionConstraint, error) {
	out := make([]versionConstraint, 0, len(in))
	for i, c := range in {
		v, err := parseKubeVersion(c.Version)
		if err != nil {
			return nil, fmt.Errorf("kubernetesVersionConstraints[%d]: %w", i, err)
		}
		switch c.Comparison {
		case libv1beta1.ComparisonEqual, libv1beta1.ComparisonNotEqual, libv1beta1.ComparisonGreaterThan,
			libv1beta1.ComparisonLessThan, libv1beta1.ComparisonGreaterThanOrEqualTo, libv1beta1.ComparisonLessThanOrEqualTo:
		default:
			return nil, fmt.Errorf("kubernetesVersionConstraints[%d]: unknown comparison %q", i, c.Comparison)
		}
		out = append(out, versionConstraint{version: v, comparison: c.Comparison})
	}
	return out, nil
}

// holds reports whether the cluster's version meets the constraint.
func (c versionConstraint) holds(cluster kubeVersion) bool {
	d := cluster.compare(c.version)
	switch c.comparison {
	case libv1beta1.ComparisonEqual:
		return d == 0
	case libv1beta1.ComparisonNotEqual:
		return d != 0
	case libv1beta1.ComparisonGreaterThan:
		return d > 0
	case libv1beta1.ComparisonLessThan:
		return d < 0
	case libv1beta1.ComparisonGreaterThanOrEqualTo:
		return d >= 0
	case libv1beta1.ComparisonLessThanOrEqualTo:
		return d <= 0
	}
	return false
}

// unmetVersionConstraint returns a description of the first constraint the
// version does not meet, or "" when it meets them all.
func unmetVersionConstraint(constraints []versionConstraint, cluster kubeVersion) string {
	for _, c := range constraints {
		if !c.holds(cluster) {
			return fmt.Sprintf("Kubernetes version %s is not %s %s", cluster, c.comparison, c.version)
		}
	}
	return ""
}
