package health

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Job checks (jobCheck): a Job the manager creates in the managed cluster
// decides the check. The Job is named after the check, the summary and a hash
// of its manifest and of the run (the deployed content of the feature), so a
// new run is a new Job; its outcome is read from its status conditions.

// Labels of the Jobs of job checks, which the manager watches them by.
const (
	// JobOwnerLabel holds a hash of the summary the Job checks for.
	JobOwnerLabel = "tugboat.dev/health-check-owner"
	// JobCheckLabel holds a hash of the check's list and name.
	JobCheckLabel = "tugboat.dev/health-check"
)

// ParseJob reads the Job manifest of a jobRef's ConfigMap or Secret data: the
// one value it holds must be one batch/v1 Job (YAML or JSON).
func ParseJob(data map[string][]byte) (*unstructured.Unstructured, []byte, error) {
	if len(data) != 1 {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, nil, fmt.Errorf("holds %d keys (%s); it must hold exactly one, the Job manifest", len(data), strings.Join(keys, ", "))
	}
	var raw []byte
	for _, v := range data {
		raw = v
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		return nil, nil, fmt.Errorf("the Job manifest does not parse: %w", err)
	}
	job := &unstructured.Unstructured{Object: obj}
	if job.GetAPIVersion() != "batch/v1" || job.GetKind() != "Job" {
		return nil, nil, fmt.Errorf("the manifest is a %s %s, not a batch/v1 Job", job.GetAPIVersion(), job.GetKind())
	}
	if _, found, _ := unstructured.NestedMap(obj, "spec", "template"); !found {
		return nil, nil, fmt.Errorf("the Job manifest has no spec.template")
	}
	return job, raw, nil
}

// LabelHash is a label value standing for s.
func LabelHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:20]
}

var notNameChars = regexp.MustCompile(`[^a-z0-9-]+`)

// JobName is the name of the Job of one run of a check: a readable prefix from
// the check's name and a hash of owner, check, manifest and run.
func JobName(owner, check string, manifest []byte, run string) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(owner), []byte(check), manifest, []byte(run)} {
		h.Write(part)
		h.Write([]byte{0})
	}
	prefix := strings.Trim(notNameChars.ReplaceAllString(strings.ToLower(check), "-"), "-")
	if len(prefix) > 30 {
		prefix = strings.Trim(prefix[:30], "-")
	}
	if prefix == "" {
		prefix = "check"
	}
	return "health-" + prefix + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// JobOutcome reads a Job's status: done once it has the condition Complete or
// Failed (status True); healthy when Complete; the message says why not.
func JobOutcome(job *unstructured.Unstructured) (done, healthy bool, message string) {
	name := job.GetNamespace() + "/" + job.GetName()
	conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["status"] != "True" {
			continue
		}
		switch m["type"] {
		case "Complete":
			return true, true, ""
		case "Failed":
			msg := fmt.Sprintf("Job %s failed", name)
			if r, _ := m["reason"].(string); r != "" {
				msg += " (" + r + ")"
			}
			if s, _ := m["message"].(string); s != "" {
				msg += ": " + s
			}
			return true, false, msg
		}
	}
	active, _, _ := unstructured.NestedInt64(job.Object, "status", "active")
	failed, _, _ := unstructured.NestedInt64(job.Object, "status", "failed")
	return false, false, fmt.Sprintf("Job %s has not completed yet (%d active, %d failed pods)", name, active, failed)
}
