package health

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseJobRefusesWhatIsNotOneJob(t *testing.T) {
	job := "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: []\n"
	for _, tc := range []struct {
		name string
		data map[string][]byte
		want string
	}{
		{"two keys", map[string][]byte{"a": []byte(job), "b": []byte(job)}, "holds 2 keys (a, b)"},
		{"no key", map[string][]byte{}, "holds 0 keys"},
		{"not YAML", map[string][]byte{"job.yaml": []byte("kind: [")}, "does not parse"},
		{"a Pod", map[string][]byte{"job.yaml": []byte("apiVersion: v1\nkind: Pod\n")}, "is a v1 Pod, not a batch/v1 Job"},
		{"no template", map[string][]byte{"job.yaml": []byte("apiVersion: batch/v1\nkind: Job\nspec: {}\n")}, "no spec.template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseJob(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, raw, err := ParseJob(map[string][]byte{"job.yaml": []byte(job)}); err != nil || string(raw) != job {
		t.Fatalf("a Job manifest: %v", err)
	}
}

func TestJobNameIsPerRun(t *testing.T) {
	a := JobName("fleet/s", "validateHealths[0] Smoke Test!", []byte("m"), "h1")
	if !strings.HasPrefix(a, "health-validatehealths-0-smoke-") || len(a) > 63 {
		t.Fatalf("name %q", a)
	}
	if a != JobName("fleet/s", "validateHealths[0] Smoke Test!", []byte("m"), "h1") {
		t.Fatal("the same run must have the same name")
	}
	for _, other := range []string{
		JobName("fleet/s", "validateHealths[0] Smoke Test!", []byte("m"), "h2"),
		JobName("fleet/s", "validateHealths[0] Smoke Test!", []byte("m2"), "h1"),
		JobName("fleet/t", "validateHealths[0] Smoke Test!", []byte("m"), "h1"),
	} {
		if other == a {
			t.Fatalf("another run named %q too", a)
		}
	}
}

func TestJobOutcome(t *testing.T) {
	job := func(status map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"status": status}}
		u.SetNamespace("default")
		u.SetName("j")
		return u
	}
	cond := func(typ, reason, msg string) map[string]any {
		return map[string]any{"type": typ, "status": "True", "reason": reason, "message": msg}
	}
	for _, tc := range []struct {
		name                string
		status              map[string]any
		wantDone, wantGood  bool
		wantMessageContains string
	}{
		{"running", map[string]any{"active": int64(1)}, false, false, "has not completed yet (1 active, 0 failed pods)"},
		{"complete", map[string]any{"conditions": []any{cond("SuccessCriteriaMet", "", ""), cond("Complete", "", "")}}, true, true, ""},
		{"failed", map[string]any{"conditions": []any{cond("FailureTarget", "BackoffLimitExceeded", "x"), cond("Failed", "BackoffLimitExceeded", "limit reached")}}, true, false, "Job default/j failed (BackoffLimitExceeded): limit reached"},
		{"condition not true", map[string]any{"conditions": []any{map[string]any{"type": "Complete", "status": "False"}}}, false, false, "has not completed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done, healthy, msg := JobOutcome(job(tc.status))
			if done != tc.wantDone || healthy != tc.wantGood || !strings.Contains(msg, tc.wantMessageContains) {
				t.Fatalf("got done=%v healthy=%v %q", done, healthy, msg)
			}
		})
	}
}
