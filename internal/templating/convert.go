package templating

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/BurntSushi/toml"
	"sigs.k8s.io/yaml"
)

// conversionFuncs are the serialisation helpers Sveltos users know from Helm.
// Unlike Helm's, they fail the render instead of hiding errors in the output.
func conversionFuncs() template.FuncMap {
	return template.FuncMap{
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"toToml":        toTOML,
		"fromToml":      fromTOML,
	}
}

// toYAML renders v as YAML without the trailing newline, so that
// `{{ toYaml . | nindent 4 }}` lines up.
func toYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

func fromYAML(s string) (map[string]any, error) {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("fromYaml: %w", err)
	}
	if m == nil { // document "null"
		m = map[string]any{}
	}
	return m, nil
}

func fromYAMLArray(s string) ([]any, error) {
	a := []any{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("fromYamlArray: %w", err)
	}
	if a == nil {
		a = []any{}
	}
	return a, nil
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("toJson: %w", err)
	}
	return string(b), nil
}

func fromJSON(s string) (map[string]any, error) {
	m := map[string]any{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("fromJson: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func fromJSONArray(s string) ([]any, error) {
	a := []any{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("fromJsonArray: %w", err)
	}
	if a == nil {
		a = []any{}
	}
	return a, nil
}

// toTOML encodes like Helm's toToml (same encoder), so outputs match.
func toTOML(v any) (string, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(v); err != nil {
		return "", fmt.Errorf("toToml: %w", err)
	}
	return b.String(), nil
}

func fromTOML(s string) (map[string]any, error) {
	m := map[string]any{}
	if err := toml.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("fromToml: %w", err)
	}
	return m, nil
}
