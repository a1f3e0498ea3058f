package scheduler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

// MaxRenderPasses bounds re-rendering of output that still contains "{{".
const MaxRenderPasses = 10

// nondeterministic are sprig functions removed from templates: they read the clock,
// a random source, the process environment or the network, so the same input
// would not always give the same output.
var nondeterministic = []string{
	"now", "ago", "date", "dateInZone", "date_in_zone", "dateModify", "date_modify", "mustDateModify", "must_date_modify",
	"htmlDate", "htmlDateInZone", "unixEpoch", "durationRound",
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt", "uuidv4", "shuffle",
	"genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey", "bcrypt", "htpasswd", "encryptAES", "decryptAES",
	"env", "expandenv", "getHostByName",
}

// FuncMap returns the functions available to templates (see the package documentation).
func FuncMap() template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, name := range nondeterministic {
		delete(fm, name)
	}
	fm["toYaml"] = toYaml
	fm["stringify"] = stringify
	fm["hash"] = hashValue
	fm["unquote"] = unquote
	return fm
}

func toYaml(v any) (string, error) {
	out, err := yaml.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

// stringify renders a map as YAML whose values are all strings (nested maps and
// lists as YAML text), keys sorted: the data of a ConfigMap.
func stringify(v any) (string, error) {
	var m map[string]any
	switch t := v.(type) {
	case nil:
		return "", nil
	case map[string]any:
		m = t
	case map[string]string:
		m = make(map[string]any, len(t))
		for k, s := range t {
			m[k] = s
		}
	default:
		return "", fmt.Errorf("stringify: want a map, got %T", v)
	}
	if len(m) == 0 {
		return "", nil
	}
	flat := make(map[string]string, len(m))
	for k, val := range m {
		s, err := scalarString(val)
		if err != nil {
			return "", fmt.Errorf("stringify %s: %w", k, err)
		}
		flat[k] = s
	}
	out, err := yaml.Marshal(flat)
	if err != nil {
		return "", fmt.Errorf("stringify: %w", err)
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

func scalarString(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case map[string]any, []any, map[string]string, []string:
		out, err := yaml.Marshal(t)
		if err != nil {
			return "", err
		}
		return string(out), nil
	case float64:
		// JSON numbers: print integers without an exponent.
		if t == float64(int64(t)) {
			return fmt.Sprintf("%d", int64(t)), nil
		}
		return fmt.Sprintf("%v", t), nil
	default:
		return fmt.Sprintf("%v", t), nil
	}
}

func hashValue(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		out, err := yaml.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("hash: %w", err)
		}
		s = string(out)
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:16], nil
}

func unquote(s string) string {
	if len(s) >= 2 {
		if (s[0] == '"' && s[len(s)-1] == '"') || (s[0] == '\'' && s[len(s)-1] == '\'') {
			return s[1 : len(s)-1]
		}
	}
	return s
}

// Render executes text as a template with data, then re-renders the output while it
// still contains "{{", at most MaxRenderPasses times. Output that still contains
// "{{" after that, or that re-renders to itself, is an error.
func Render(name, text string, data any, funcs template.FuncMap) (string, error) {
	out := text
	for pass := 0; pass < MaxRenderPasses; pass++ {
		tpl, err := template.New(name).Funcs(funcs).Parse(out)
		if err != nil {
			return "", fmt.Errorf("parsing template %s (pass %d): %w", name, pass+1, err)
		}
		var buf bytes.Buffer
		if err := tpl.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("executing template %s (pass %d): %w", name, pass+1, err)
		}
		next := buf.String()
		if pass > 0 && next == out {
			return "", fmt.Errorf("template %s: output still contains {{ and no longer changes", name)
		}
		out = next
		if !strings.Contains(out, "{{") {
			return out, nil
		}
	}
	return "", fmt.Errorf("template %s: output still contains {{ after %d passes", name, MaxRenderPasses)
}

// TemplateData is the data contract of templates (see the package documentation).
func TemplateData(environment, clusterType string, t Target, config map[string]any) map[string]any {
	return map[string]any{
		"DeploymentTargetName": t.Name,
		"Namespace":            Namespace(environment, clusterType, t.Name),
		"Environment":          environment,
		"Workspace":            t.Workspace,
		"Workload":             t.Workload,
		"Labels":               copyStrings(t.Labels),
		"Manifests":            copyStrings(t.Manifests),
		"ClusterType":          clusterType,
		"ConfigData":           config,
	}
}

// Namespace is the namespace of a deployment target on a cluster type.
func Namespace(environment, clusterType, target string) string {
	return environment + "-" + clusterType + "-" + target
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
