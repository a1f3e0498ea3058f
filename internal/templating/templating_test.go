package templating

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

func configMapObj() map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name": "cfg", "namespace": "default", "uid": "abc", "resourceVersion": "12",
			"managedFields": []any{map[string]any{"manager": "kubectl"}},
			"labels":        map[string]any{"app": "x"},
			"annotations":   map[string]any{"projectsveltos.io/template": "ok"},
		},
		"data": map[string]any{"a": "1", "b": "2"},
		"list": []any{map[string]any{"n": "zero"}, map[string]any{"n": "one"}},
	}
}

func TestRenderBase(t *testing.T) {
	tests := []struct {
		name, text string
		data       any
		want       string
	}{
		{"sprig", `{{ "hello" | upper }} {{ b64enc "todo" }} {{ "dG9kbw==" | b64dec }} {{ list 1 2 | len }}`, nil, "HELLO dG9kbw== todo 2"},
		{"sprig get and default", `{{ get .m "a" }}/{{ get .m "zz" | default "none" }}`, map[string]any{"m": map[string]any{"a": "A"}}, "A/none"},
		{"toYaml nested", `{{ toYaml .m }}`, map[string]any{"m": map[string]any{"b": []any{1, "x"}, "a": true}}, "a: true\nb:\n- 1\n- x"},
		{"toYaml nindent", "x:{{ toYaml .m | nindent 2 }}", map[string]any{"m": map[string]any{"k": "v", "l": "w"}}, "x:\n  k: v\n  l: w"},
		{"fromYaml", `{{ (fromYaml "a:\n  b: c").a.b }}`, nil, "c"},
		{"fromYaml empty", `{{ len (fromYaml "") }}`, nil, "0"},
		{"fromYamlArray", `{{ index (fromYamlArray "- p\n- q") 1 }}`, nil, "q"},
		{"toJson", `{{ toJson .m }}`, map[string]any{"m": map[string]any{"b": 1, "a": "x"}}, `{"a":"x","b":1}`},
		{"fromJson", `{{ (fromJson "{\"a\":{\"b\":[1,2]}}").a.b | len }}`, nil, "2"},
		{"fromJsonArray", `{{ index (fromJsonArray "[\"p\",\"q\"]") 0 }}`, nil, "p"},
		{"toToml", `{{ toToml .m }}`, map[string]any{"m": map[string]any{"name": "x", "port": 5432}}, "name = \"x\"\nport = 5432\n"},
		{"fromToml", `{{ (fromToml "[db]\nport = 5432").db.port }}`, nil, "5432"},
		{"toToml tables", `{{ toToml .m }}`, map[string]any{"m": map[string]any{"db": map[string]any{"host": "h"}, "debug": true}}, "debug = true\n\n[db]\n  host = \"h\"\n"},
		{"yaml round trip", `{{ (fromYaml (toYaml .m)).k }}`, map[string]any{"m": map[string]any{"k": "v"}}, "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.name, tt.text, tt.data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	cluster := mm(ClusterMap(workloadCluster()))
	secret := mm(ObjectMap(operatorSecret()))
	oneEvent := NewEventContext(cluster, corev1.ObjectReference{Kind: "Secret", Name: "s"}, secret)
	notCollected := NewEventContext(cluster, corev1.ObjectReference{Kind: "Secret", Name: "s"}, nil)
	perCluster := NewClusterEventsContext(cluster, []corev1.ObjectReference{{Kind: "Secret", Name: "s"}}, []map[string]any{secret}, true)
	profile := NewProfileContext(cluster, map[string]map[string]any{"Credentials": mm(ObjectMap(pgCredentials()))})
	name := SourceName("ConfigMap", "default", "job-to-create-table", "job-to-create-table.yaml")

	tests := []struct {
		name   string
		text   string
		render func(text string) (string, error)
		want   []string
	}{
		{
			name:   "missing key names template, line and column",
			text:   "a: 1\nb: {{ .Cluster.metadata.x }}",
			render: func(text string) (string, error) { return profile.Render(name, text) },
			want: []string{
				"ConfigMap default/job-to-create-table key job-to-create-table.yaml: template: ConfigMap default/job-to-create-table key job-to-create-table.yaml:2:",
				`map has no entry for key "x"`,
			},
		},
		{
			name:   "parse error",
			text:   "{{ .Cluster ",
			render: func(text string) (string, error) { return profile.Render(name, text) },
			want:   []string{name + ": template: " + name + ":1:"},
		},
		{
			name:   "unknown function",
			text:   "{{ nope 1 }}",
			render: func(text string) (string, error) { return profile.Render(name, text) },
			want:   []string{`function "nope" not defined`},
		},
		{
			name:   "unknown identifier",
			text:   `{{ getResource "Missing" }}`,
			render: func(text string) (string, error) { return profile.Render(name, text) },
			want:   []string{`getResource: no templateResourceRef with identifier "Missing" (available: Credentials)`},
		},
		{
			name:   "missing field",
			text:   `{{ getField "Credentials" "data.nope" }}`,
			render: func(text string) (string, error) { return profile.Render(name, text) },
			want:   []string{`getField: field "data.nope" not found`},
		},
		{
			name:   "MgmtResources missing identifier",
			text:   `{{ .MgmtResources.Nope.data }}`,
			render: func(text string) (string, error) { return profile.Render(name, text) },
			want:   []string{`map has no entry for key "Nope"`},
		},
		{
			name:   ".Resource in per-cluster mode",
			text:   `{{ .Resource.metadata.name }}`,
			render: func(text string) (string, error) { return perCluster.Render("t", text) },
			want:   []string{"t:1:", ".Resource is only available when oneForEvent is true; with oneForEvent: false use .Resources"},
		},
		{
			name:   ".MatchingResource in per-cluster mode",
			text:   `{{ .MatchingResource.Name }}`,
			render: func(text string) (string, error) { return perCluster.Render("t", text) },
			want:   []string{".MatchingResource is only available when oneForEvent is true"},
		},
		{
			name:   ".Resources in oneForEvent mode",
			text:   `{{ range .Resources }}{{ .metadata.name }}{{ end }}`,
			render: func(text string) (string, error) { return oneEvent.Render("t", text) },
			want:   []string{".Resources is only available when oneForEvent is false; with oneForEvent: true use .Resource"},
		},
		{
			name:   ".MatchingResources in oneForEvent mode",
			text:   `{{ len .MatchingResources }}`,
			render: func(text string) (string, error) { return oneEvent.Render("t", text) },
			want:   []string{".MatchingResources is only available when oneForEvent is false"},
		},
		{
			name:   ".Resource without collectResources",
			text:   `{{ .Resource.metadata.name }}`,
			render: func(text string) (string, error) { return notCollected.Render("t", text) },
			want:   []string{"collectResources"},
		},
		{
			name:   "fromYaml invalid",
			text:   `{{ fromYaml "a: [" }}`,
			render: func(text string) (string, error) { return Render("t", text, nil, nil) },
			want:   []string{"error calling fromYaml: fromYaml:"},
		},
		{
			name:   "fromJson invalid",
			text:   `{{ fromJson "{" }}`,
			render: func(text string) (string, error) { return Render("t", text, nil, nil) },
			want:   []string{"fromJson:"},
		},
		{
			name:   "fromToml invalid",
			text:   `{{ fromToml "a = " }}`,
			render: func(text string) (string, error) { return Render("t", text, nil, nil) },
			want:   []string{"fromToml:"},
		},
		{
			name:   "getResource of a non-object",
			text:   `{{ getResource .MatchingResource.Name }}`,
			render: func(text string) (string, error) { return oneEvent.Render("t", text) },
			want:   []string{"getResource: expected an object (map), got string"},
		},
		{
			name:   "bad path",
			text:   `{{ getField .Resource "data..x" }}`,
			render: func(text string) (string, error) { return oneEvent.Render("t", text) },
			want:   []string{`getField: field path "data..x": empty key`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.render(tt.text)
			if err == nil {
				t.Fatalf("no error, output %q", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestProfileHelpers(t *testing.T) {
	stored := configMapObj()
	ctx := NewProfileContext(map[string]any{"metadata": map[string]any{"name": "c1"}}, map[string]map[string]any{"Cfg": stored})
	tests := []struct {
		name, text, want string
	}{
		{"getResource strips server fields", `{{ $r := getResource "Cfg" }}{{ hasKey $r.metadata "uid" }} {{ hasKey $r.metadata "resourceVersion" }} {{ hasKey $r.metadata "managedFields" }} {{ $r.metadata.name }}`, "false false false cfg"},
		{"copy", `{{ copy "Cfg" }}`, "apiVersion: v1\ndata:\n  a: \"1\"\n  b: \"2\"\nkind: ConfigMap\nlist:\n- \"n\": zero\n- \"n\": one\nmetadata:\n  annotations:\n    projectsveltos.io/template: ok\n  labels:\n    app: x\n  name: cfg\n  namespace: default"},
		{"getField", `{{ getField "Cfg" "data.a" }}`, "1"},
		{"getField index", `{{ getField "Cfg" "list[1].n" }}`, "one"},
		{"getField quoted key", `{{ getField "Cfg" "metadata.annotations[\"projectsveltos.io/template\"]" }}`, "ok"},
		{"getField map", `{{ getField "Cfg" "data" | toJson }}`, `{"a":"1","b":"2"}`},
		{"setField", `{{ setField "Cfg" "data.a" "changed" | fromYaml | toJson }}`,
			`{"apiVersion":"v1","data":{"a":"changed","b":"2"},"kind":"ConfigMap","list":[{"n":"zero"},{"n":"one"}],"metadata":{"annotations":{"projectsveltos.io/template":"ok"},"labels":{"app":"x"},"name":"cfg","namespace":"default"}}`},
		{"setField creates maps", `{{ (setField "Cfg" "spec.replicas" 3 | fromYaml).spec.replicas }}`, "3"},
		{"setField appends", `{{ (setField "Cfg" "list[2].n" "two" | fromYaml).list | len }}`, "3"},
		{"removeField", `{{ (removeField "Cfg" "metadata.labels" | fromYaml).metadata | keys | sortAlpha | join "," }}`, "annotations,name,namespace"},
		{"removeField list element", `{{ (removeField "Cfg" "list[0]" | fromYaml).list | toJson }}`, `[{"n":"one"}]`},
		{"removeField missing is a no-op", `{{ (removeField "Cfg" "spec.nothing" | fromYaml).data.a }}`, "1"},
		{"chain", `{{ $o := chainSetField (getResource "Cfg") "metadata.name" "copy" }}{{ $o = chainRemoveField $o "data.b" }}{{ $o = chainSetField $o "metadata.labels[\"app.kubernetes.io/name\"]" "y" }}{{ toJson $o.metadata.labels }} {{ $o.metadata.name }} {{ toJson $o.data }}`,
			`{"app":"x","app.kubernetes.io/name":"y"} copy {"a":"1"}`},
		{"chain does not mutate the resource", `{{ $o := chainSetField (getResource "Cfg") "data.a" "z" }}{{ (getResource "Cfg").data.a }}{{ $o.data.a }}`, "1z"},
		{"MgmtResources", `{{ .MgmtResources.Cfg.metadata.uid }} {{ .Cluster.metadata.name }}`, "abc c1"},
		{"sprig set on data does not leak", `{{ $_ := set .MgmtResources.Cfg.data "a" "mutated" }}{{ .MgmtResources.Cfg.data.a }}`, "mutated"},
	}
	for _, tt := range tests {
		checkRender(t, ctx, tt.name, tt.text, tt.want)
	}
	if !reflect.DeepEqual(stored, configMapObj()) {
		t.Fatalf("stored object was modified: %v", stored)
	}
}

func TestInstantiateHelpers(t *testing.T) {
	obj := configMapObj()
	ref := corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "cfg"}
	one := NewEventContext(map[string]any{"metadata": map[string]any{"name": "src"}}, ref, obj)
	second := configMapObj()
	unstructured.SetNestedField(second, "cfg2", "metadata", "name")
	many := NewClusterEventsContext(map[string]any{"metadata": map[string]any{"name": "src"}},
		[]corev1.ObjectReference{ref, {Kind: "ConfigMap", Namespace: "default", Name: "cfg2"}},
		[]map[string]any{obj, second}, true)

	tests := []struct {
		name string
		ctx  contextRenderer
		text string
		want string
	}{
		{"matching resource", one, `{{ .MatchingResource.APIVersion }} {{ .MatchingResource.Kind }} {{ .MatchingResource.Namespace }}/{{ .MatchingResource.Name }}`, "v1 ConfigMap default/cfg"},
		{"resource fields", one, `{{ .Resource.metadata.name }} {{ .Cluster.metadata.name }} {{ get .Resource.data "b" }}`, "cfg src 2"},
		{"getResource", one, `{{ $r := getResource .Resource }}{{ hasKey $r.metadata "uid" }} {{ $r.metadata.name }}`, "false cfg"},
		{"copy", one, `{{ (copy .Resource | fromYaml).metadata | keys | sortAlpha | join "," }}`, "annotations,labels,name,namespace"},
		{"getField", one, `{{ getField .Resource "list[0].n" }}`, "zero"},
		{"setField", one, `{{ (setField .Resource "metadata.namespace" "other" | fromYaml).metadata.namespace }}`, "other"},
		{"removeField", one, `{{ hasKey (removeField .Resource "data" | fromYaml) "data" }}`, "false"},
		{"chain", one, `{{ (chainSetField (chainRemoveField .Resource "list") "data.c" 3).data.c }}`, "3"},
		{"resource unchanged after helpers", one, `{{ $x := setField .Resource "data.a" "9" }}{{ $y := chainSetField .Resource "data.a" "9" }}{{ .Resource.data.a }}`, "1"},
		{"plural resources", many, `{{ range .Resources }}{{ .metadata.name }};{{ end }}`, "cfg;cfg2;"},
		{"plural matching resources", many, `{{ range .MatchingResources }}{{ .Name }};{{ end }}{{ len .MatchingResources }}`, "cfg;cfg2;2"},
		{"plural helpers", many, `{{ range .Resources }}{{ getField . "metadata.name" }};{{ end }}`, "cfg;cfg2;"},
	}
	for _, tt := range tests {
		checkRender(t, tt.ctx, tt.name, tt.text, tt.want)
	}
	if !reflect.DeepEqual(obj, configMapObj()) {
		t.Fatalf("caller's object was modified: %v", obj)
	}
}

func TestInstantiateFuncsAcceptUnstructured(t *testing.T) {
	u := &unstructured.Unstructured{Object: configMapObj()}
	got, err := Render("t", `{{ getField .u "data.a" }}{{ getField .v "data.b" }}`, map[string]any{"u": u, "v": *u}, InstantiateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	if got != "12" {
		t.Fatalf("got %q", got)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		path    string
		want    []step
		wantErr string
	}{
		{path: "a", want: []step{{key: "a"}}},
		{path: "a.b.c", want: []step{{key: "a"}, {key: "b"}, {key: "c"}}},
		{path: "spec.ports[0].port", want: []step{{key: "spec"}, {key: "ports"}, {index: 0, isIndex: true}, {key: "port"}}},
		{path: "m[1][2]", want: []step{{key: "m"}, {index: 1, isIndex: true}, {index: 2, isIndex: true}}},
		{path: `metadata.labels["a.b/c"]`, want: []step{{key: "metadata"}, {key: "labels"}, {key: "a.b/c"}}},
		{path: `['x.y'].z`, want: []step{{key: "x.y"}, {key: "z"}}},
		{path: "", wantErr: "empty field path"},
		{path: "a..b", wantErr: "empty key"},
		{path: ".a", wantErr: "empty key"},
		{path: "a.", wantErr: "empty key"},
		{path: "a[", wantErr: "unclosed"},
		{path: "a[-1]", wantErr: "neither a list index"},
		{path: "a[x]", wantErr: "neither a list index"},
		{path: "a[0]b", wantErr: "expected '.' or '['"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := parsePath(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	obj := configMapObj()
	tests := []struct {
		name    string
		run     func() error
		wantErr string
	}{
		{"index into map", func() error { _, err := getField("getField", obj, "data[0]"); return err }, "data is a map[string]interface {}, not a list"},
		{"key into list", func() error { _, err := getField("getField", obj, "list.n"); return err }, "list is a []interface {}, not a map"},
		{"set index out of range", func() error { _, err := chainSet("setField", obj, "list[5].n", "x"); return err }, "list[5]: index 5 out of range (length 2)"},
		{"set through scalar", func() error { _, err := chainSet("setField", obj, "data.a.b", "x"); return err }, "data.a is a string, not a map"},
		{"remove through scalar", func() error { _, err := chainRemove("removeField", obj, "data.a.b"); return err }, "data.a is a string, not a map"},
		{"nil object", func() error { _, err := chainSetFieldFunc(nil, "a", 1); return err }, "chainSetField: object is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSplitDocuments(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	tests := []struct {
		name    string
		data    string
		want    []string // kind/name
		wantErr string
	}{
		{name: "empty", data: "", want: nil},
		{name: "single", data: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n", want: []string{"ConfigMap/a"}},
		{name: "several with leading separator and blanks",
			data: "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n---\n# only a comment\n# and another\n--- # trailing comment\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n...\n",
			want: []string{"ConfigMap/a", "Namespace/b"}},
		{name: "json object", data: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}`, want: []string{"ConfigMap/j"}},
		{name: "json stream", data: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j1"}}` + "\n" + `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j2"}}`, want: []string{"ConfigMap/j1", "Secret/j2"}},
		{name: "yaml flow mapping", data: `{apiVersion: v1, kind: ConfigMap, metadata: {name: f}}`, want: []string{"ConfigMap/f"}},
		{name: "list is expanded", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: i1\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: i2\n", want: []string{"ConfigMap/i1", "ConfigMap/i2"}},
		{name: "integers stay integers", data: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 3\n", want: []string{"Deployment/d"}},
		{name: "bad yaml names source and document", data: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: [\n", wantErr: "ConfigMap default/x key k: document 2: invalid YAML"},
		{name: "missing kind", data: "apiVersion: v1\nmetadata:\n  name: a\n", wantErr: "document 1: object has no kind"},
		{name: "missing apiVersion", data: "kind: ConfigMap\nmetadata:\n  name: a\n", wantErr: "document 1: ConfigMap object has no apiVersion"},
		{name: "scalar document", data: "---\njust text\n", wantErr: "document 1: expected an object, got a string"},
		{name: "list document", data: "- a\n- b\n", wantErr: "document 1: expected an object, got a list"},
		{name: "bad separator", data: "apiVersion: v1\n--- x\n", wantErr: "document 1: invalid Yaml document separator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := SplitDocuments("ConfigMap default/x key k", tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+"/"+o.GetName())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if tt.name == "integers stay integers" {
				if r, ok, err := unstructured.NestedInt64(objs[0].Object, "spec", "replicas"); !ok || err != nil || r != 3 {
					t.Fatalf("replicas = %v %v %v", r, ok, err)
				}
			}
		})
	}
}

func TestAnnotationsAndNames(t *testing.T) {
	tests := []struct {
		ann               map[string]string
		tmpl, instantiate bool
	}{
		{nil, false, false},
		{map[string]string{libv1beta1.TemplateAnnotation: ""}, true, false},
		{map[string]string{libv1beta1.InstantiateAnnotation: "ok"}, false, true},
		{map[string]string{libv1beta1.InstantiateAnnotation: "ok", libv1beta1.TemplateAnnotation: "ok"}, true, true},
		{map[string]string{"other": "x"}, false, false},
	}
	for _, tt := range tests {
		if IsTemplate(tt.ann) != tt.tmpl || IsInstantiate(tt.ann) != tt.instantiate {
			t.Errorf("%v: IsTemplate=%v IsInstantiate=%v", tt.ann, IsTemplate(tt.ann), IsInstantiate(tt.ann))
		}
	}
	if got := SourceName("Secret", "", "s", ""); got != "Secret s" {
		t.Errorf("SourceName = %q", got)
	}
	if _, ok := BaseFuncs()["toToml"]; !ok {
		t.Error("BaseFuncs lacks toToml")
	}
}

func TestClusterMap(t *testing.T) {
	m := mm(ClusterMap(workloadCluster()))
	got, err := Render("c", `{{ .apiVersion }} {{ .kind }} {{ .metadata.name }} {{ .metadata.labels.type }} {{ .spec.data.region }} {{ .status.ready }} {{ hasKey .metadata "managedFields" }}`, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "lib.projectsveltos.io/v1beta1 SveltosCluster workload app eu-west-1 true false"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
