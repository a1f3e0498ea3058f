package templating

import (
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// baseFuncs is built once and never modified afterwards: sprig's text
// functions overridden by the conversion helpers of this package.
var baseFuncs = sync.OnceValue(func() template.FuncMap {
	m := sprig.TxtFuncMap()
	for k, v := range conversionFuncs() {
		m[k] = v
	}
	return m
})

// baseTemplate holds the options and base functions; Render clones it, which
// copies the function tables instead of checking every function again. It is
// never modified after creation.
var baseTemplate = sync.OnceValue(func() *template.Template {
	return template.New("").Option("missingkey=error").Funcs(baseFuncs())
})

// BaseFuncs returns a new map with every function available to all templates:
// sprig's text functions plus toYaml, fromYaml, fromYamlArray, toJson,
// fromJson, fromJsonArray, toToml and fromToml. The caller may modify it.
func BaseFuncs() template.FuncMap {
	b := baseFuncs()
	m := make(template.FuncMap, len(b))
	for k, v := range b {
		m[k] = v
	}
	return m
}

// Render parses text as a Go template called name and executes it with data.
// The base functions (see BaseFuncs) are always available; funcs adds or
// overrides functions (typically a stage's helpers, e.g.
// ProfileContext.Funcs). Missing map keys are errors.
//
// name should say where the template comes from, for example
// SourceName("ConfigMap", "default", "job-to-create-table", "job.yaml");
// errors start with it and keep text/template's line:column position.
func Render(name, text string, data any, funcs template.FuncMap) (string, error) {
	root, err := baseTemplate().Clone()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	tmpl, err := root.New(name).Funcs(funcs).Parse(text)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var out strings.Builder
	out.Grow(len(text))
	if err := tmpl.Execute(&out, data); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return out.String(), nil
}

// SourceName names a template held in a data value of a ConfigMap or Secret,
// in the form used in error messages:
// "ConfigMap default/job-to-create-table key job-to-create-table.yaml".
func SourceName(kind, namespace, name, key string) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte(' ')
	if namespace != "" {
		b.WriteString(namespace)
		b.WriteByte('/')
	}
	b.WriteString(name)
	if key != "" {
		b.WriteString(" key ")
		b.WriteString(key)
	}
	return b.String()
}

// IsTemplate reports whether annotations mark a ConfigMap/Secret as a profile
// template (projectsveltos.io/template, any value).
func IsTemplate(annotations map[string]string) bool {
	_, ok := annotations[libv1beta1.TemplateAnnotation]
	return ok
}

// IsInstantiate reports whether annotations mark a ConfigMap/Secret referenced
// by an EventTrigger as to be instantiated (projectsveltos.io/instantiate, any
// value).
func IsInstantiate(annotations map[string]string) bool {
	_, ok := annotations[libv1beta1.InstantiateAnnotation]
	return ok
}
