package templating

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// SplitDocuments parses a ConfigMap/Secret data value (rendered or not) into
// the objects it holds. The value is a YAML stream with documents separated
// by "---" lines, or a stream of JSON objects. Empty and comment-only
// documents are skipped; a List (kind ending in "List" with items) is expanded
// into its items. source names the value in errors (e.g. SourceName's
// result), together with the 1-based document number.
func SplitDocuments(source, data string) ([]*unstructured.Unstructured, error) {
	trimmed := strings.TrimSpace(data)
	if trimmed == "" {
		return nil, nil
	}
	if trimmed[0] == '{' {
		if objs, err := splitJSON(source, trimmed); err == nil {
			return objs, nil
		}
		// Not a JSON stream (e.g. a YAML flow mapping): read it as YAML.
	}
	var objs []*unstructured.Unstructured
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, n, err)
		}
		if blankDocument(doc) {
			continue
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: invalid YAML: %w", source, n, err)
		}
		objs, err = appendObjects(objs, source, n, js)
		if err != nil {
			return nil, err
		}
	}
}

func splitJSON(source, data string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := json.NewDecoder(strings.NewReader(data))
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return objs, nil
		} else if err != nil {
			return nil, err
		}
		var err error
		if objs, err = appendObjects(objs, source, n, raw); err != nil {
			return nil, err
		}
	}
}

// blankDocument reports whether a YAML document has nothing but whitespace,
// comments and document markers.
func blankDocument(doc []byte) bool {
	for line := range bytes.Lines(doc) {
		l := bytes.TrimSpace(line)
		if len(l) == 0 || l[0] == '#' || bytes.Equal(l, []byte("---")) || bytes.Equal(l, []byte("...")) {
			continue
		}
		if bytes.HasPrefix(l, []byte("---")) && bytes.HasPrefix(bytes.TrimSpace(l[3:]), []byte("#")) {
			continue
		}
		return false
	}
	return true
}

func appendObjects(objs []*unstructured.Unstructured, source string, n int, js []byte) ([]*unstructured.Unstructured, error) {
	js = bytes.TrimSpace(js)
	if len(js) == 0 || bytes.Equal(js, []byte("null")) {
		return objs, nil
	}
	if js[0] != '{' {
		return nil, fmt.Errorf("%s: document %d: expected an object, got %s", source, n, describeJSON(js))
	}
	obj := &unstructured.Unstructured{}
	if _, _, err := unstructured.UnstructuredJSONScheme.Decode(js, nil, obj); err != nil {
		switch {
		case runtime.IsMissingKind(err):
			return nil, fmt.Errorf("%s: document %d: object has no kind", source, n)
		case runtime.IsMissingVersion(err):
			return nil, fmt.Errorf("%s: document %d: object has no apiVersion", source, n)
		}
		return nil, fmt.Errorf("%s: document %d: %w", source, n, err)
	}
	if obj.GetAPIVersion() == "" {
		return nil, fmt.Errorf("%s: document %d: %s object has no apiVersion", source, n, obj.GetKind())
	}
	if _, hasItems := obj.Object["items"]; hasItems && strings.HasSuffix(obj.GetKind(), "List") {
		list, err := obj.ToList()
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, n, err)
		}
		for i := range list.Items {
			objs = append(objs, &list.Items[i])
		}
		return objs, nil
	}
	return append(objs, obj), nil
}

func describeJSON(js []byte) string {
	switch js[0] {
	case '[':
		return "a list"
	case '"':
		return "a string"
	default:
		return "a scalar"
	}
}

// EachObject decodes a stream of YAML documents (or JSON objects) in turn and
// calls fn with each object, skipping empty documents; it stops at the first
// decoding error or error of fn. Unlike SplitDocuments, it neither expands
// Lists nor checks kind and apiVersion: for manifests the caller wrote.
func EachObject(manifest []byte, fn func(*unstructured.Unstructured) error) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if len(obj.Object) == 0 {
			continue
		}
		if err := fn(obj); err != nil {
			return err
		}
	}
}
