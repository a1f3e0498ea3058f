package clusterhealth

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/scripting"
)

// evaluation is a compiled HealthCheck's evaluateHealth script with how to call it.
type evaluation struct {
	script        *scripting.Lua
	independently bool
	collect       bool
}

func compileEvaluation(hc *libv1beta1.HealthCheck) (*evaluation, error) {
	script, err := scripting.CompileLua(hc.Spec.EvaluateHealth)
	if err != nil {
		return nil, fmt.Errorf("evaluateHealth: %w", err)
	}
	return &evaluation{script: script, independently: hc.Spec.EvaluateIndependently, collect: hc.Spec.CollectResources}, nil
}

// evaluate judges the selected resources of one cluster: the script reads them
// from the global `resources` and returns {resources = {{resource = r,
// healthStatus = "...", message = "..."}, ...}}. Resources the script does not
// mention are not reported. The statuses come back sorted by resource.
func (e *evaluation) evaluate(objs []unstructured.Unstructured) ([]libv1beta1.ResourceStatus, error) {
	byKey := map[string]*unstructured.Unstructured{}
	for i := range objs {
		byKey[resourceKey(objectRef(&objs[i]))] = &objs[i]
	}
	var out []libv1beta1.ResourceStatus
	run := func(batch []unstructured.Unstructured) error {
		resources := make([]any, 0, len(batch))
		for i := range batch {
			resources = append(resources, batch[i].Object)
		}
		ret, err := e.script.Evaluate(map[string]any{"resources": resources})
		if err != nil {
			return err
		}
		statuses, err := readStatuses(ret, byKey)
		if err != nil {
			return err
		}
		out = append(out, statuses...)
		return nil
	}
	if e.independently {
		for i := range objs {
			if err := run(objs[i : i+1]); err != nil {
				return nil, fmt.Errorf("evaluateHealth on %s: %w", describeRef(objectRef(&objs[i])), err)
			}
		}
	} else if len(objs) > 0 {
		if err := run(objs); err != nil {
			return nil, fmt.Errorf("evaluateHealth: %w", err)
		}
	}
	// One status per resource (the last one the script gave).
	dedup := map[string]libv1beta1.ResourceStatus{}
	for _, s := range out {
		dedup[resourceKey(s.ObjectRef)] = s
	}
	out = out[:0]
	for key, s := range dedup {
		if e.collect {
			if obj := byKey[key]; obj != nil && !isSecret(obj) {
				data, err := yaml.Marshal(obj.Object)
				if err == nil {
					s.Resource = data
				}
			}
		}
		out = append(out, s)
	}
	sortStatuses(out)
	return out, nil
}

func isSecret(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}

// readStatuses reads the script's answer; an entry naming a resource that was
// not given to it, or a status that is not one of the four, is an error.
func readStatuses(ret map[string]any, given map[string]*unstructured.Unstructured) ([]libv1beta1.ResourceStatus, error) {
	raw, ok := ret["resources"]
	if !ok {
		return nil, nil
	}
	var entries []any
	switch v := raw.(type) {
	case []any:
		entries = v
	case map[string]any:
		if len(v) != 0 {
			return nil, fmt.Errorf("evaluate() returned resources as a table with keys, want an array")
		}
	default:
		return nil, fmt.Errorf("evaluate() returned resources as %T, want an array", raw)
	}
	out := make([]libv1beta1.ResourceStatus, 0, len(entries))
	for i, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("evaluate() returned resources[%d] that is not a table", i+1)
		}
		resource, ok := entry["resource"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("evaluate() returned resources[%d] without resource", i+1)
		}
		u := unstructured.Unstructured{Object: resource}
		ref := objectRef(&u)
		if given[resourceKey(ref)] == nil {
			return nil, fmt.Errorf("evaluate() returned resources[%d] naming %s, which it was not given", i+1, describeRef(ref))
		}
		status, _ := entry["healthStatus"].(string)
		switch libv1beta1.HealthStatus(status) {
		case libv1beta1.HealthStatusHealthy, libv1beta1.HealthStatusProgressing,
			libv1beta1.HealthStatusDegraded, libv1beta1.HealthStatusSuspended:
		default:
			return nil, fmt.Errorf("evaluate() returned healthStatus %q for %s, want Healthy, Progressing, Degraded or Suspended", status, describeRef(ref))
		}
		message, _ := entry["message"].(string)
		out = append(out, libv1beta1.ResourceStatus{ObjectRef: ref, HealthStatus: libv1beta1.HealthStatus(status), Message: message})
	}
	return out, nil
}

// applyFlapping holds back non-Healthy statuses until they have been seen in
// `required` evaluations in a row (1: no holding back). previous are the
// statuses last reported, pending those held back last time; count says
// whether this pass counts as a further evaluation (otherwise held-back counts
// stay as they are). It returns what to report and what stays held back. A
// held-back resource keeps its previous reported status (if any); Healthy is
// reported at once.
func applyFlapping(required int32, count bool, evaluated, previous []libv1beta1.ResourceStatus,
	pending []libv1beta1.PendingResourceStatus) ([]libv1beta1.ResourceStatus, []libv1beta1.PendingResourceStatus) {
	if required <= 1 {
		return evaluated, nil
	}
	prevByKey := map[string]libv1beta1.ResourceStatus{}
	for _, s := range previous {
		prevByKey[resourceKey(s.ObjectRef)] = s
	}
	pendingByKey := map[string]libv1beta1.PendingResourceStatus{}
	for _, p := range pending {
		pendingByKey[resourceKey(p.ObjectRef)] = p
	}
	var report []libv1beta1.ResourceStatus
	var hold []libv1beta1.PendingResourceStatus
	for _, s := range evaluated {
		key := resourceKey(s.ObjectRef)
		prev, reported := prevByKey[key]
		if s.HealthStatus == libv1beta1.HealthStatusHealthy || (reported && prev.HealthStatus == s.HealthStatus) {
			report = append(report, s)
			continue
		}
		seen := int32(1)
		if p, ok := pendingByKey[key]; ok && p.HealthStatus == s.HealthStatus {
			seen = p.ConsecutiveCount
			if count {
				seen++
			}
		}
		if seen >= required {
			report = append(report, s)
			continue
		}
		hold = append(hold, libv1beta1.PendingResourceStatus{ObjectRef: s.ObjectRef, HealthStatus: s.HealthStatus,
			Message: s.Message, ConsecutiveCount: seen})
		if reported {
			report = append(report, prev)
		}
	}
	sortStatuses(report)
	sort.Slice(hold, func(i, j int) bool { return resourceKey(hold[i].ObjectRef) < resourceKey(hold[j].ObjectRef) })
	return report, hold
}

func objectRef(u *unstructured.Unstructured) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

func resourceKey(ref corev1.ObjectReference) string {
	return ref.APIVersion + "|" + ref.Kind + "|" + ref.Namespace + "|" + ref.Name
}

// describeRef names a resource in messages: Kind apiVersion namespace/name.
func describeRef(ref corev1.ObjectReference) string {
	name := ref.Name
	if ref.Namespace != "" {
		name = ref.Namespace + "/" + name
	}
	return ref.Kind + " " + ref.APIVersion + " " + name
}

func sortStatuses(s []libv1beta1.ResourceStatus) {
	sort.Slice(s, func(i, j int) bool { return resourceKey(s[i].ObjectRef) < resourceKey(s[j].ObjectRef) })
}
