package templating

import (
	"strings"
	"testing"
)

// Fuzzing: no template text, however broken, panics rendering (errors are
// fine), and no document text panics the splitter.
func FuzzProfileRender(f *testing.F) {
	for _, s := range []string{
		"{{ .Cluster.metadata.name }}",
		"{{ index .Cluster.metadata.labels \"env\" | upper }}",
		"{{ getResource \"db\" }}",
		"{{ range $k, $v := .Cluster.metadata.labels }}{{ $k }}={{ $v }}{{ end }}",
		"{{ .Cluster.spec.nothing.deeper }}",
		"{{",
	} {
		f.Add(s)
	}
	ctx := NewProfileContext(map[string]any{
		"apiVersion": "lib.projectsveltos.io/v1beta1", "kind": "SveltosCluster",
		"metadata": map[string]any{"name": "c", "namespace": "fleet", "labels": map[string]any{"env": "prod"}},
	}, map[string]map[string]any{"db": {"metadata": map[string]any{"name": "db"}}})
	f.Fuzz(func(t *testing.T, text string) {
		// Functions that allocate by an argument (repeat, until…) are out of
		// the fuzzer's reach here: it looks for crashes, not for large outputs.
		if strings.Contains(text, "repeat") || strings.Contains(text, "until") || strings.Contains(text, "seq") {
			return
		}
		_, _ = ctx.Render("fuzz", text)
	})
}

func FuzzSplitDocuments(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n",
		"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}",
		"metadata: [not, a, map\n",
		"---\n---\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		_, _ = SplitDocuments("fuzz", data)
	})
}
