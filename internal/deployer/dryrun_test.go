package deployer_test

import (
	"context"
	"strings"
	"testing"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// A dry run reports Create, Update, No Action, Conflict and Delete per object, using
// server-side dry-run requests only, and changes nothing.
func TestDryRunReportsAndChangesNothing(t *testing.T) {
	c, log := newClient(t)
	ns := uniqueName(t)
	newNS := ns + "-new"
	same, changed, stale := configMap(t, ns, "same", "1"), configMap(t, ns, "changed", "1"), configMap(t, ns, "stale", "1")
	first := mustApply(t, c, request(profile("cp", 0), fromSource("src", same, changed, stale)...))
	mustApply(t, c, request(profile("other", 0), fromSource("src", configMap(t, ns, "theirs", "1"))...))
	before := map[string]string{}
	for _, o := range []string{"same", "changed", "stale", "theirs"} {
		before[o] = get(t, c, configMap(t, ns, o, "")).GetResourceVersion()
	}

	req := request(profile("cp", 0), fromSource("src",
		configMap(t, ns, "same", "1"),
		configMap(t, ns, "changed", "2"),
		configMap(t, ns, "created", "1"),
		configMap(t, ns, "theirs", "mine"),
		configMap(t, newNS, "elsewhere", "1"),
	)...)
	req.Previous = first.Deployed
	req.DryRun = true
	log.Reset()
	res, err := (&deployer.Deployer{}).Apply(context.Background(), c, req)
	if err != nil {
		t.Fatal(err)
	}

	got := map[string]configv1beta1.ResourceReport{}
	for _, r := range res.Report {
		name := between(r.Resource, "name: \"", "\"")
		got[name] = r
	}
	want := map[string]configv1beta1.ReportAction{
		"same":      configv1beta1.ReportActionNoAction,
		"changed":   configv1beta1.ReportActionUpdate,
		"created":   configv1beta1.ReportActionCreate,
		"theirs":    configv1beta1.ReportActionConflict,
		"elsewhere": configv1beta1.ReportActionCreate,
		newNS:       configv1beta1.ReportActionCreate,
		"stale":     configv1beta1.ReportActionDelete,
	}
	for name, action := range want {
		if got[name].Action != action {
			t.Errorf("%s: action %q, want %q (report %+v)", name, got[name].Action, action, got[name])
		}
	}
	if len(res.Report) != len(want) {
		t.Errorf("report has %d entries, want %d: %+v", len(res.Report), len(want), res.Report)
	}
	if msg := got["changed"].Message; !strings.Contains(msg, "data.key") {
		t.Errorf("update message %q does not say what changes", msg)
	}
	if msg := got["theirs"].Message; !strings.Contains(msg, "ClusterProfile other") {
		t.Errorf("conflict message %q does not name the owner", msg)
	}
	if !strings.Contains(got["changed"].Resource, "kind: ConfigMap") || !strings.Contains(got["changed"].Resource, "namespace: \""+ns+"\"") {
		t.Errorf("resource %q", got["changed"].Resource)
	}

	if res.Writes != 0 || len(res.Removed) != 0 {
		t.Errorf("dry run: writes=%d removed=%v", res.Writes, res.Removed)
	}
	for _, w := range log.Writes() {
		if !strings.Contains(w, "dryRun=All") {
			t.Errorf("dry run sent a real write: %s", w)
		}
	}
	for o, rv := range before {
		if live := get(t, c, configMap(t, ns, o, "")); live == nil || live.GetResourceVersion() != rv {
			t.Errorf("%s changed by the dry run", o)
		}
	}
	if get(t, c, configMap(t, ns, "created", "")) != nil {
		t.Error("dry run created an object")
	}
	if get(t, c, obj(t, "{apiVersion: v1, kind: Namespace, metadata: {name: %s}}", newNS)) != nil {
		t.Error("dry run created a namespace")
	}
}

// A dry run surfaces what the API server would reject.
func TestDryRunReportsValidationErrors(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	mustApply(t, c, request(profile("cp", 0), fromSource("src", configMap(t, ns, "seed", "1"))...))
	req := request(profile("cp", 0), fromSource("src", invalidService(t, ns))...)
	req.DryRun = true
	_, err := (&deployer.Deployer{}).Apply(context.Background(), c, req)
	if err == nil || !strings.Contains(err.Error(), "Service "+ns+"/bad") || !strings.Contains(err.Error(), "65535") {
		t.Errorf("err = %v", err)
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}
