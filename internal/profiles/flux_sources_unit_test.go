package profiles

import "testing"

func TestUnitTemplateFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		want    bool
	}{
		{"plain", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n", false},
		{"annotated", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    projectsveltos.io/template: ok\ndata:\n  k: '{{ .Cluster.metadata.name }}'\n", true},
		{"second document annotated", "kind: Namespace\nmetadata:\n  name: x\n---\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    projectsveltos.io/template: \"\"\n", true},
		{"a ConfigMap holding a template for later", "kind: ConfigMap\nmetadata:\n  name: holder\ndata:\n  policy.yaml: |\n    metadata:\n      annotations:\n        projectsveltos.io/template: ok\n", false},
		{"not YAML before rendering", "kind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    projectsveltos.io/template: ok\ndata:\n{{ range .Cluster.metadata.labels }}\n  x: y\n{{ end }}\n", true},
		{"unparsable without the annotation", "kind: [broken\n{{ x }}\n", false},
	} {
		if got := templateFile([]byte(tc.content)); got != tc.want {
			t.Errorf("%s: templateFile = %v, want %v", tc.name, got, tc.want)
		}
	}
}
