package scheduler

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

func clusterType(name string, labels map[string]string) v1alpha1.ClusterType {
	return v1alpha1.ClusterType{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
		check   func(t *testing.T, m *Manifests)
	}{
		{
			name: "multi-document, any layout, other files and kinds ignored",
			files: map[string]string{
				"a/b/c/all.yaml": "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: ClusterType\nmetadata: {name: x}\nspec: {reconciler: r, namespaceService: n}\n" +
					"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n" +
					"---\n# only a comment\n" +
					"---\napiVersion: scheduler.kalypso.io/v1alpha1\nkind: Assignment\nmetadata: {name: ignored}\n",
				"notes.txt":          "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: ClusterType\n",
				"chart/values.yml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {platform-config: \"true\"}}\ndata: {K: V}\n",
				"helm/template.yaml": "{{ if .Values.x }}\nfoo: [\n",
				".git/config.yaml":   "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: ClusterType\nmetadata: {name: x}\n",
			},
			check: func(t *testing.T, m *Manifests) {
				if len(m.ClusterTypes) != 1 || m.ClusterTypes[0].Name != "x" {
					t.Errorf("cluster types %+v", m.ClusterTypes)
				}
				if len(m.ConfigMaps) != 1 || m.ConfigMaps[0].Data["K"] != "V" {
					t.Errorf("config maps %+v", m.ConfigMaps)
				}
				if len(m.Skipped) != 1 || !strings.Contains(m.Skipped[0], "helm/template.yaml") {
					t.Errorf("skipped %v", m.Skipped)
				}
			},
		},
		{
			name:    "unknown field is an error naming the file",
			files:   map[string]string{"x.yaml": "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: Template\nmetadata: {name: t}\nspec: {type: config, manifests: [a], colour: red}\n"},
			wantErr: "x.yaml",
		},
		{
			name: "duplicate names are an error",
			files: map[string]string{
				"a.yaml": "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: SchedulingPolicy\nmetadata: {name: p}\n",
				"b.yaml": "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: SchedulingPolicy\nmetadata: {name: p}\n",
			},
			wantErr: `duplicate SchedulingPolicy "p"`,
		},
		{
			name:  "ConfigMaps without the platform-config label are ignored",
			files: map[string]string{"x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {K: V}\n"},
			check: func(t *testing.T, m *Manifests) {
				if len(m.ConfigMaps) != 0 {
					t.Errorf("config maps %+v", m.ConfigMaps)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, c := range tc.files {
				fsys[p] = &fstest.MapFile{Data: []byte(c)}
			}
			m, err := Load(fsys, ".")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

func TestLoadFixtures(t *testing.T) {
	m := mustLoad(t, "../../examples/kalypso")
	if len(m.Templates) != 4 || len(m.ClusterTypes) != 1 || len(m.Policies) != 1 || len(m.Registrations) != 1 {
		t.Fatalf("templates %d cluster types %d policies %d registrations %d",
			len(m.Templates), len(m.ClusterTypes), len(m.Policies), len(m.Registrations))
	}
}

func TestMergeOverlay(t *testing.T) {
	base := &Manifests{ClusterTypes: []v1alpha1.ClusterType{clusterType("a", map[string]string{"v": "1"}), clusterType("b", nil)}}
	over := &Manifests{ClusterTypes: []v1alpha1.ClusterType{clusterType("a", map[string]string{"v": "2"})}}
	m := Merge(base, over)
	if len(m.ClusterTypes) != 2 || m.ClusterTypes[0].Labels["v"] != "2" || m.ClusterTypes[1].Name != "b" {
		t.Fatalf("%+v", m.ClusterTypes)
	}
	if base.ClusterTypes[0].Labels["v"] != "1" {
		t.Fatal("base modified")
	}
}

func TestLabelsMatch(t *testing.T) {
	ct := clusterType("drone", map[string]string{"region": "north", "edge": "true"})
	target := Target{Name: "app-ft", Workload: "app", Labels: map[string]string{"purpose": "ft", "workload": "app"}}
	tests := []struct {
		labels map[string]string
		want   bool
	}{
		{nil, true},
		{map[string]string{"platform-config": "true"}, true},
		{map[string]string{"cluster-type": "drone"}, true},
		{map[string]string{"cluster-type": "large"}, false},
		{map[string]string{"deployment-target": "app-ft"}, true},
		{map[string]string{"deployment-target": "app-x"}, false},
		{map[string]string{"workload": "app"}, true},
		{map[string]string{"workload": "other"}, false},
		{map[string]string{"region": "north"}, true},                   // from the cluster type
		{map[string]string{"purpose": "ft"}, true},                     // from the target
		{map[string]string{"region": "north", "purpose": "ft"}, true},  // one from each
		{map[string]string{"region": "north", "purpose": "pt"}, false}, // all must match
		{map[string]string{"region": "south"}, false},
		{map[string]string{"size": "large"}, false},
	}
	for _, tc := range tests {
		if got := LabelsMatch(tc.labels, ct, target); got != tc.want {
			t.Errorf("LabelsMatch(%v) = %v, want %v", tc.labels, got, tc.want)
		}
	}
}

func cm(name string, labels, data map[string]string) ConfigMap {
	if labels == nil {
		labels = map[string]string{}
	}
	labels["platform-config"] = "true"
	return ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Data: data}
}

func TestMergeConfig(t *testing.T) {
	ct := clusterType("drone", map[string]string{"region": "north"})
	target := Target{Name: "app-ft", Workload: "app", Labels: map[string]string{"purpose": "ft"}}
	tests := []struct {
		name string
		cms  []ConfigMap
		want map[string]any
	}{
		{
			name: "first in name order wins for scalars; unmatched maps ignored",
			cms: []ConfigMap{
				cm("a", map[string]string{"region": "north"}, map[string]string{"DB": "north-db", "R": "N"}),
				cm("b", nil, map[string]string{"DB": "default-db", "ENV": "Dev"}),
				cm("c", map[string]string{"region": "south"}, map[string]string{"X": "south"}),
			},
			want: map[string]any{"DB": "north-db", "R": "N", "ENV": "Dev"},
		},
		{
			name: "maps deep-merged, values parsed as YAML only when structured",
			cms: []ConfigMap{
				cm("a", nil, map[string]string{"db": "host: a\nport: 1\n", "PORT": "3306", "FLAG": "true"}),
				cm("b", nil, map[string]string{"db": "host: b\nuser: u\n"}),
			},
			want: map[string]any{"db": map[string]any{"host": "a", "port": float64(1), "user": "u"}, "PORT": "3306", "FLAG": "true"},
		},
		{
			name: "lists merged by name",
			cms: []ConfigMap{
				cm("a", nil, map[string]string{"secrets": "- name: one\n  value: a\n- name: two\n  value: a\n- plain\n"}),
				cm("b", nil, map[string]string{"secrets": "- name: two\n  value: b\n  extra: b\n- name: three\n- plain\n- other\n"}),
			},
			want: map[string]any{"secrets": []any{
				map[string]any{"name": "one", "value": "a"},
				map[string]any{"name": "two", "value": "a", "extra": "b"},
				"plain",
				map[string]any{"name": "three"},
				"other",
			}},
		},
		{
			name: "an earlier scalar beats a later map",
			cms: []ConfigMap{
				cm("a", nil, map[string]string{"k": "scalar"}),
				cm("b", nil, map[string]string{"k": "x: 1\n"}),
			},
			want: map[string]any{"k": "scalar"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := MergeConfig(tc.cms, ct, target)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func policy(name, workspace string, targetSel, ctSel *metav1.LabelSelector) v1alpha1.SchedulingPolicy {
	return v1alpha1.SchedulingPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.SchedulingPolicySpec{
			DeploymentTargetSelector: v1alpha1.DeploymentTargetSelector{Workspace: workspace, LabelSelector: targetSel},
			ClusterTypeSelector:      v1alpha1.ClusterTypeSelector{LabelSelector: ctSel},
		},
	}
}

func TestAssign(t *testing.T) {
	targets := []Target{
		{Name: "a-ft", Workspace: "team", Labels: map[string]string{"purpose": "ft"}},
		{Name: "b-ft", Workspace: "other", Labels: map[string]string{"purpose": "ft"}},
	}
	cts := []v1alpha1.ClusterType{clusterType("big", map[string]string{"size": "large"}), clusterType("tiny", map[string]string{"size": "small"})}
	ft := &metav1.LabelSelector{MatchLabels: map[string]string{"purpose": "ft"}}
	large := &metav1.LabelSelector{MatchLabels: map[string]string{"size": "large"}}
	tests := []struct {
		name     string
		policies []v1alpha1.SchedulingPolicy
		want     []Assignment
		wantErr  string
	}{
		{"workspace must equal", []v1alpha1.SchedulingPolicy{policy("p", "team", ft, large)},
			[]Assignment{{"big", "a-ft"}}, ""},
		{"no workspace selects all workspaces", []v1alpha1.SchedulingPolicy{policy("p", "", ft, large)},
			[]Assignment{{"big", "a-ft"}, {"big", "b-ft"}}, ""},
		{"empty cluster type selector selects all", []v1alpha1.SchedulingPolicy{policy("p", "team", ft, &metav1.LabelSelector{})},
			[]Assignment{{"big", "a-ft"}, {"tiny", "a-ft"}}, ""},
		{"absent selectors select all", []v1alpha1.SchedulingPolicy{policy("p", "team", nil, nil)},
			[]Assignment{{"big", "a-ft"}, {"tiny", "a-ft"}}, ""},
		{"deduplicated across policies", []v1alpha1.SchedulingPolicy{policy("p", "team", ft, large), policy("q", "", nil, large)},
			[]Assignment{{"big", "a-ft"}, {"big", "b-ft"}}, ""},
		{"no match", []v1alpha1.SchedulingPolicy{policy("p", "team", &metav1.LabelSelector{MatchLabels: map[string]string{"purpose": "x"}}, nil)},
			[]Assignment{}, ""},
		{"invalid selector is that policy's error", []v1alpha1.SchedulingPolicy{
			policy("bad", "", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Near"}}}, nil),
			policy("p", "team", ft, large)},
			[]Assignment{{"big", "a-ft"}}, "SchedulingPolicy/bad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := Assign("dev", tc.policies, targets, cts)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if tc.wantErr == "" && len(errs) > 0 || tc.wantErr != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.wantErr)) {
				t.Errorf("errors %v, want %q", errs, tc.wantErr)
			}
		})
	}
}

func TestBuildTargets(t *testing.T) {
	w := v1alpha1.Workload{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Labels: map[string]string{"type": "application", "purpose": "workload-level"}},
		Spec: v1alpha1.WorkloadSpec{
			ConfigSchemas: []string{"common"},
			DeploymentTargets: []v1alpha1.WorkloadDeploymentTarget{
				{Name: "ft", Labels: map[string]string{"purpose": "ft", "workspace": "spoofed"},
					DeploymentTargetSpec: v1alpha1.DeploymentTargetSpec{Environment: "dev", Manifests: map[string]string{"repo": "r"}, ConfigSchemas: []string{"ft"}}},
				{Name: "uat", DeploymentTargetSpec: v1alpha1.DeploymentTargetSpec{Environment: "stage"}},
			},
		},
	}
	reg := v1alpha1.WorkloadRegistration{ObjectMeta: metav1.ObjectMeta{Name: "app"}, Spec: v1alpha1.WorkloadRegistrationSpec{Workspace: "team"}}
	explicit := []v1alpha1.DeploymentTarget{
		{ObjectMeta: metav1.ObjectMeta{Name: "app-ft"}, Spec: v1alpha1.DeploymentTargetSpec{Environment: "dev"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Labels: map[string]string{"workspace": "ops", "workload": "legacy"}}, Spec: v1alpha1.DeploymentTargetSpec{Environment: "dev"}},
	}
	got, errs := BuildTargets("dev", []RegisteredWorkload{{Registration: reg, Workload: w}}, explicit)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []Target{
		{Name: "app-ft", Workload: "app", Workspace: "team", Environment: "dev",
			Labels:    map[string]string{"type": "application", "purpose": "ft", "workload": "app", "workspace": "team"},
			Manifests: map[string]string{"repo": "r"}, ConfigSchemas: []string{"common", "ft"}},
		{Name: "legacy", Workload: "legacy", Workspace: "ops", Environment: "dev",
			Labels: map[string]string{"workspace": "ops", "workload": "legacy"}, Manifests: map[string]string{}, ConfigSchemas: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestRenderFunctions(t *testing.T) {
	data := map[string]any{
		"Name":   "x",
		"Config": map[string]any{"B": "2", "A": "one", "nested": map[string]any{"k": "v"}, "list": []any{"a"}, "n": float64(8080), "bool": "true"},
		"Tpl":    "{{ .Name }}-again",
		"Loop":   "{{ .Loop }}",
		"Grow":   "{{ .Grow }}{{ .Grow }}",
	}
	tests := []struct {
		name, text, want, wantErr string
	}{
		{"sprig", `{{ "hello" | upper | quote }}`, `"HELLO"`, ""},
		{"toYaml", `{{ toYaml .Config.nested }}`, "k: v", ""},
		{"stringify", `{{ stringify .Config }}`, "A: one\nB: \"2\"\nbool: \"true\"\nlist: |\n  - a\n\"n\": \"8080\"\nnested: |\n  k: v", ""},
		{"stringify empty", `[{{ stringify .Missing }}]`, "[]", ""},
		{"hash", `{{ hash "abc" }}`, "ba7816bf8f01cfea", ""},
		{"unquote", `{{ unquote "\"q\"" }}{{ unquote "'s'" }}{{ unquote "n" }}`, "qsn", ""},
		{"re-render while output contains {{", `{{ .Tpl }}`, "x-again", ""},
		{"clock is not available", `{{ now }}`, "", `function "now" not defined`},
		{"environment is not available", `{{ env "HOME" }}`, "", `function "env" not defined`},
		{"parse error", `{{ .Name `, "", "parsing template"},
		{"execution error", `{{ fail "boom" }}`, "", "boom"},
		{"self-reproducing", `{{ .Loop }}`, "", "still contains"},
		{"growing", `{{ .Grow }}`, "", "still contains"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render("t", tc.text, data, FuncMap())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q (output %q)", err, tc.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Failures stay with their target: the others render.
func TestErrorsArePerTarget(t *testing.T) {
	base := seedEnv(t, "dev")
	tests := []struct {
		name     string
		overlay  string
		failing  string // <clusterType>/<target>
		wantErrs []string
	}{
		{
			name: "cluster type names a missing template",
			overlay: `apiVersion: scheduler.kalypso.io/v1alpha1
kind: ClusterType
metadata: {name: large, labels: {size: large}}
spec: {reconciler: no-such-template, namespaceService: default, configType: configmap}
`,
			failing:  "large/hello-world-app-performance-test",
			wantErrs: []string{"environment dev", "cluster type large", "deployment target hello-world-app-performance-test", `reconciler template "no-such-template" not found`},
		},
		{
			name: "template fails",
			overlay: `apiVersion: scheduler.kalypso.io/v1alpha1
kind: ConfigMap
---
apiVersion: v1
kind: ConfigMap
metadata: {name: aaa-broken, labels: {platform-config: "true", cluster-type: drone}}
data: {GREETING: "{{ fail \"no greeting for drones\" }}"}
`,
			failing:  "drone/hello-world-app-functional-test",
			wantErrs: []string{"cluster type drone", "deployment target hello-world-app-functional-test", "no greeting for drones"},
		},
		{
			name: "schema violation",
			overlay: `apiVersion: scheduler.kalypso.io/v1alpha1
kind: ConfigSchema
metadata: {name: needs-port, labels: {restricted: "true"}}
spec:
  schema:
    type: object
    required: [DB_PORT]
    properties:
      DATABASE_URL: {type: string, pattern: "^postgres://"}
`,
			failing: "drone/hello-world-app-functional-test",
			wantErrs: []string{"cluster type drone", "deployment target hello-world-app-functional-test", `config schema "needs-port"`,
				"field /DATABASE_URL", "DB_PORT"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			over, err := LoadBytes("overlay.yaml", []byte(tc.overlay))
			if err != nil {
				t.Fatal(err)
			}
			res := Schedule(context.Background(), "dev", Merge(base, over), seedSource())
			if len(res.Errors) != 1 {
				t.Fatalf("errors %v", res.Errors)
			}
			msg := res.Errors[0].Error()
			t.Log(msg)
			for _, s := range tc.wantErrs {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q lacks %q", msg, s)
				}
			}
			if !reflect.DeepEqual(res.Keep, []string{tc.failing}) {
				t.Errorf("keep = %v", res.Keep)
			}
			for p := range res.Files {
				if strings.HasPrefix(p, tc.failing+"/") {
					t.Errorf("failed target rendered %s", p)
				}
			}
			// the other target still renders
			other := "large/hello-world-app-performance-test/reconciler.yaml"
			if strings.HasPrefix(tc.failing, "large/") {
				other = "drone/hello-world-app-functional-test/reconciler.yaml"
			}
			if _, ok := res.Files[other]; !ok {
				t.Errorf("%s not rendered", other)
			}
		})
	}
}

func TestConfigSchemas(t *testing.T) {
	ct := clusterType("drone", map[string]string{"region": "north"})
	target := Target{Name: "app-ft", Workload: "app", ConfigSchemas: []string{"by-name"}}
	mk := func(name string, labels map[string]string, schema string) v1alpha1.ConfigSchema {
		cs := v1alpha1.ConfigSchema{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		cs.Spec.Schema.Raw = []byte(schema)
		return cs
	}
	tests := []struct {
		name    string
		schemas []v1alpha1.ConfigSchema
		config  map[string]any
		wantErr string
	}{
		{"valid", []v1alpha1.ConfigSchema{mk("by-name", nil, `{"type":"object","required":["A"]}`)}, map[string]any{"A": "x"}, ""},
		{"named schema violated", []v1alpha1.ConfigSchema{mk("by-name", map[string]string{"region": "south"}, `{"required":["A"]}`)}, map[string]any{}, `config schema "by-name"`},
		{"schema as YAML text", []v1alpha1.ConfigSchema{mk("by-name", nil, `"properties:\n  A: {type: integer}\n"`)}, map[string]any{"A": "x"}, "field /A"},
		{"label-matched schema applies", []v1alpha1.ConfigSchema{mk("by-name", nil, `{}`), mk("north", map[string]string{"region": "north"}, `{"required":["B"]}`)}, map[string]any{}, `config schema "north"`},
		{"unmatched schema ignored", []v1alpha1.ConfigSchema{mk("by-name", nil, `{}`), mk("south", map[string]string{"region": "south"}, `{"required":["B"]}`)}, map[string]any{}, ""},
		{"missing named schema", nil, map[string]any{}, `config schema "by-name" not found`},
		{"remote refs refused", []v1alpha1.ConfigSchema{mk("by-name", nil, `{"$ref":"https://example.com/s.json"}`)}, map[string]any{}, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &renderer{manifests: &Manifests{ConfigSchemas: tc.schemas}, schemas: newSchemas(tc.schemas)}
			err := r.validateConfig(ct, target, tc.config)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// The published templates (fixtures, unchanged) render with the data contract.
func TestFixtureTemplatesRender(t *testing.T) {
	fixtures := mustLoad(t, "../../examples/kalypso/templates")
	m := Merge(seedEnv(t, "dev"), fixtures)
	res := scheduleDevWith(t, m, "cc.yaml", `apiVersion: scheduler.kalypso.io/v1alpha1
kind: ClusterType
metadata: {name: command-center, labels: {restricted: "true", edge: "true"}}
spec: {reconciler: argocd, namespaceService: default, configType: configmap}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: pull-secrets, labels: {platform-config: "true", cluster-type: command-center}}
data: {imagePullSecrets: regcred}
`)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	flux := string(res.Files["drone/hello-world-app-functional-test/reconciler.yaml"])
	for _, s := range []string{"name: dev.hello-world-app.hello-world-app-functional-test", "secretRef:\n    name: platform-dev-auth", "---\n", "kind: Kustomization"} {
		if !strings.Contains(flux, s) {
			t.Errorf("arc-flux output lacks %q:\n%s", s, flux)
		}
	}
	argo := string(res.Files["command-center/hello-world-app-functional-test/reconciler.yaml"])
	if !strings.Contains(argo, "kind: Application") || !strings.Contains(argo, `targetRevision: "dev"`) {
		t.Errorf("argocd output:\n%s", argo)
	}
	ns := string(res.Files["command-center/hello-world-app-functional-test/namespace.yaml"])
	if !strings.Contains(ns, "imagePullSecrets:\n- name: regcred") || !strings.Contains(ns, `name: "hello-world-app-sa"`) {
		t.Errorf("namespace output:\n%s", ns)
	}
	if ns := string(res.Files["drone/hello-world-app-functional-test/namespace.yaml"]); strings.Contains(ns, "imagePullSecrets") {
		t.Errorf("drone namespace should have no pull secrets:\n%s", ns)
	}
	cfg := string(res.Files["drone/hello-world-app-functional-test/platform-config.yaml"])
	if !strings.Contains(cfg, "data:\n  CLUSTER_NAME: Drone\n") {
		t.Errorf("configmap output:\n%s", cfg)
	}
}

func TestWorkloadFetchFailureIsolated(t *testing.T) {
	m := seedEnv(t, "dev")
	res := scheduleDevWith(t, m, "reg.yaml", `apiVersion: scheduler.kalypso.io/v1alpha1
kind: WorkloadRegistration
metadata: {name: ghost}
spec:
  workload: {repo: https://example.invalid/ghost, branch: main, path: .}
  workspace: ghosts
`)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "WorkloadRegistration/ghost") {
		t.Fatalf("errors %v", res.Errors)
	}
	var e *Error
	if !errors.As(res.Err(), &e) {
		t.Fatal("Err() does not unwrap to *Error")
	}
	if len(res.Assignments) != 2 {
		t.Fatalf("assignments %+v", res.Assignments)
	}
}

func TestShellContentType(t *testing.T) {
	m := seedEnv(t, "dev")
	res := scheduleDevWith(t, m, "sh.yaml", `apiVersion: scheduler.kalypso.io/v1alpha1
kind: Template
metadata: {name: arc-flux}
spec:
  type: reconciler
  contentType: sh
  manifests:
    - "echo {{ .DeploymentTargetName }}"
    - "{{ if false }}skipped{{ end }}"
    - "echo {{ .ClusterType }}"
`)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	got := string(res.Files["drone/hello-world-app-functional-test/reconciler.sh"])
	if got != "echo hello-world-app-functional-test\n\necho drone\n" {
		t.Errorf("got %q", got)
	}
}

func TestCleanRepoPath(t *testing.T) {
	for in, want := range map[string]string{"": ".", ".": ".", "./": ".", "workload/": "workload", "./a/b": "a/b", "/a": "a", "../x": "x"} {
		if got := CleanRepoPath(in); got != want {
			t.Errorf("CleanRepoPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// scheduleDevWith schedules environment dev of m with the manifests of doc
// (loaded as file name) merged over it, from the seed's workload source.
func scheduleDevWith(t *testing.T, m *Manifests, name, doc string) *Result {
	t.Helper()
	over, err := LoadBytes(name, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return Schedule(context.Background(), "dev", Merge(m, over), seedSource())
}
