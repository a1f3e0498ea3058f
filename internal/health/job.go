package health

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

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
	// JobRunLabel holds a hash of the run the Job belongs to (the check's
	// manifest and the content it checks), whatever the attempt.
	JobRunLabel = "tugboat.dev/health-check-run"
	// JobAttemptLabel numbers the attempts of a run of a gate's check: 1, 2, …
	JobAttemptLabel = "tugboat.dev/health-check-attempt"
)

// Failed Jobs of gates (preDeployChecks, preDeleteChecks, postDeleteChecks)
// run again, each attempt waiting longer after the last one failed.
const (
	// DefaultJobRetry is the wait after the first failed attempt.
	DefaultJobRetry = 10 * time.Second
	// MaxJobRetry caps the wait between attempts.
	MaxJobRetry = 5 * time.Minute
)

// JobRetryDelay is how long after attempt (1, 2, …) failed the next one
// starts: base doubled for each attempt after the first, at most MaxJobRetry.
func JobRetryDelay(base time.Duration, attempt int) time.Duration {
	if base <= 0 {
		base = DefaultJobRetry
	}
	d := base
	for i := 1; i < attempt && d < MaxJobRetry; i++ {
		d *= 2
	}
	return min(d, MaxJobRetry)
}

// JobAttempt is the attempt number of a Job (1 without the label).
func JobAttempt(job *unstructured.Unstructured) int {
	n, err := strconv.Atoi(job.GetLabels()[JobAttemptLabel])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// JobFailedAt is when a failed Job failed: its Failed condition's
// lastTransitionTime, else its creation.
func JobFailedAt(job *unstructured.Unstructured) time.Time {
	conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Failed" || m["status"] != "True" {
			continue
		}
		if s, _ := m["lastTransitionTime"].(string); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t
			}
		}
	}
	return job.GetCreationTimestamp().Time
}

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
