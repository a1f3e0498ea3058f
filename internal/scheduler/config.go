package scheduler

import (
	"reflect"

	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// LabelsMatch reports whether an object labelled with sel (a platform ConfigMap or a
// ConfigSchema) applies to target t on cluster type ct. Every label must match: the
// keys cluster-type, deployment-target and workload must equal the cluster type's,
// the target's and the workload's names; any other key matches when the cluster
// type or the target carries that label with that value. The platform-config label
// itself is not matched.
func LabelsMatch(sel map[string]string, ct v1alpha1.ClusterType, t Target) bool {
	for k, v := range sel {
		switch k {
		case v1alpha1.PlatformConfigLabel:
			continue
		case v1alpha1.ClusterTypeLabel:
			if v != ct.Name {
				return false
			}
		case v1alpha1.DeploymentTargetLabel:
			if v != t.Name {
				return false
			}
		case v1alpha1.WorkloadLabel:
			if v != t.Workload {
				return false
			}
		default:
			if cv, ok := ct.Labels[k]; ok && cv == v {
				continue
			}
			if tv, ok := t.Labels[k]; ok && tv == v {
				continue
			}
			return false
		}
	}
	return true
}

// MergeConfig merges the data of every matching platform ConfigMap, in name order:
// the first writer wins for scalars, maps are deep-merged and lists are merged by
// the "name" of their items. Values that parse as YAML maps or lists become
// structured; all other values stay strings.
func MergeConfig(configMaps []ConfigMap, ct v1alpha1.ClusterType, t Target) map[string]any {
	out := map[string]any{}
	for _, cm := range configMaps { // sorted by name by Load/Merge
		if !LabelsMatch(cm.Labels, ct, t) {
			continue
		}
		src := make(map[string]any, len(cm.Data))
		for k, v := range cm.Data {
			src[k] = parseConfigValue(v)
		}
		mergeMaps(out, src)
	}
	return out
}

func parseConfigValue(s string) any {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	switch v.(type) {
	case map[string]any, []any:
		return v
	}
	return s
}

// mergeMaps merges src into dst, keeping dst's values where both have a scalar.
func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		if old, ok := dst[k]; ok {
			dst[k] = mergeValues(old, v)
		} else {
			dst[k] = v
		}
	}
}

func mergeValues(old, nu any) any {
	switch o := old.(type) {
	case map[string]any:
		if n, ok := nu.(map[string]any); ok {
			mergeMaps(o, n)
		}
		return o
	case []any:
		if n, ok := nu.([]any); ok {
			return mergeLists(o, n)
		}
		return o
	}
	return old
}

func itemName(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	n, ok := m["name"].(string)
	return n, ok
}

// mergeLists merges items with the same name; other items of nu are appended
// unless an equal item is already there.
func mergeLists(old, nu []any) []any {
	out := append([]any{}, old...)
	byName := map[string]int{}
	for i, v := range out {
		if n, ok := itemName(v); ok {
			if _, dup := byName[n]; !dup {
				byName[n] = i
			}
		}
	}
	for _, v := range nu {
		if n, ok := itemName(v); ok {
			if i, found := byName[n]; found {
				out[i] = mergeValues(out[i], v)
				continue
			}
			byName[n] = len(out)
			out = append(out, v)
			continue
		}
		dup := false
		for _, o := range out {
			if reflect.DeepEqual(o, v) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}
