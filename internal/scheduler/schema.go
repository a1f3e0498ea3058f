package scheduler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// schemas compiles ConfigSchemas on first use. It is not safe for concurrent use.
type schemas struct {
	byName   map[string]v1alpha1.ConfigSchema
	compiled map[string]*jsonschema.Schema
	failed   map[string]error
}

func newSchemas(list []v1alpha1.ConfigSchema) *schemas {
	s := &schemas{byName: map[string]v1alpha1.ConfigSchema{}, compiled: map[string]*jsonschema.Schema{}, failed: map[string]error{}}
	for _, cs := range list {
		s.byName[cs.Name] = cs
	}
	return s
}

// noRemote refuses every $ref outside the schema itself: validation never reads
// files or the network.
type noRemote struct{}

func (noRemote) Load(url string) (any, error) {
	return nil, fmt.Errorf("loading %s: external references are not allowed", url)
}

func (s *schemas) get(name string) (*jsonschema.Schema, error) {
	if sch, ok := s.compiled[name]; ok {
		return sch, nil
	}
	if err, ok := s.failed[name]; ok {
		return nil, err
	}
	sch, err := s.compile(name)
	if err != nil {
		s.failed[name] = err
		return nil, err
	}
	s.compiled[name] = sch
	return sch, nil
}

func (s *schemas) compile(name string) (*jsonschema.Schema, error) {
	cs, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("config schema %q not found", name)
	}
	raw := bytes.TrimSpace(cs.Spec.Schema.Raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("config schema %q has no schema", name)
	}
	if raw[0] == '"' { // a string holding JSON or YAML
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("config schema %q: %w", name, err)
		}
		j, err := yaml.YAMLToJSON([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("config schema %q: parsing schema text: %w", name, err)
		}
		raw = j
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("config schema %q: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noRemote{})
	loc := "urn:tugboat:configschema:" + name
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("config schema %q: %w", name, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("config schema %q: compiling: %w", name, err)
	}
	return sch, nil
}

// validate checks config against the named schema; a violation names the schema
// and every failing field (as a JSON pointer).
func (s *schemas) validate(name string, config map[string]any) error {
	sch, err := s.get(name)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(config)
	if err != nil {
		return fmt.Errorf("encoding platform config: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("decoding platform config: %w", err)
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("config schema %q: %w", name, err)
	}
	var details []string
	var walk func(u *jsonschema.OutputUnit)
	walk = func(u *jsonschema.OutputUnit) {
		if u.Error != nil && len(u.Errors) == 0 {
			field := u.InstanceLocation
			if field == "" {
				field = "/"
			}
			details = append(details, fmt.Sprintf("field %s: %s", field, u.Error.String()))
		}
		for i := range u.Errors {
			walk(&u.Errors[i])
		}
	}
	walk(ve.BasicOutput())
	sort.Strings(details)
	if len(details) == 0 {
		details = []string{ve.Error()}
	}
	return fmt.Errorf("platform config violates config schema %q: %s", name, strings.Join(details, "; "))
}
