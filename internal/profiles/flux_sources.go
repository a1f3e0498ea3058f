package profiles

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// sourceFiles reads what a Flux source's current artifact holds at dir ("" for
// everything) through the shared fetcher (one download per digest serves every
// summary). A missing source is bad input unless optional (found is then false);
// so are a source without an artifact yet and a dir the artifact lacks — the
// source's watch brings the summary back when its artifact changes.
func (r *SummaryReconciler) sourceFiles(ctx context.Context, kind string, key types.NamespacedName, dir, where string, optional bool) (files map[string][]byte, rev configv1beta1.SourceRevision, found bool, err error) {
	ref := sources.Ref{Kind: kind, Namespace: key.Namespace, Name: key.Name}
	snap, err := r.Sources.Fetch(ctx, ref)
	switch {
	case errors.Is(err, sources.ErrNotFound) && optional:
		return nil, rev, false, nil
	case errors.Is(err, sources.ErrNotFound), errors.Is(err, sources.ErrNoArtifact):
		return nil, rev, false, renderError{fmt.Errorf("%s: %w", where, err)}
	case err != nil:
		return nil, rev, false, fmt.Errorf("%s: %w", where, err)
	}
	files, err = snap.Files(dir)
	if err != nil {
		return nil, rev, false, renderError{fmt.Errorf("%s: %w", where, err)}
	}
	rev = configv1beta1.SourceRevision{Kind: kind, Namespace: key.Namespace, Name: key.Name, Revision: snap.Artifact.Revision}
	return files, rev, true, nil
}

// manifestFile reports whether a file of a Flux source holds objects to deploy
// (YAML or JSON); READMEs and other files beside them are ignored.
func manifestFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// documentSeparator splits a multi-document YAML file.
var documentSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// templateFile reports whether a file of a Flux source is a template: one of its
// documents carries the projectsveltos.io/template annotation in its own
// metadata, as a ConfigMap or Secret does to make its content a template. (A
// ConfigMap in the file whose data merely mentions the annotation is not one.) A
// document that does not parse as YAML before rendering counts as a template when
// it holds the annotation and template actions.
func templateFile(content []byte) bool {
	for _, doc := range documentSeparator.Split(string(content), -1) {
		var head struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			if strings.Contains(doc, libv1beta1.TemplateAnnotation) && strings.Contains(doc, "{{") {
				return true
			}
			continue
		}
		if _, ok := head.Metadata.Annotations[libv1beta1.TemplateAnnotation]; ok {
			return true
		}
	}
	return false
}

// addRevision records rev once in revs.
func addRevision(revs []configv1beta1.SourceRevision, rev configv1beta1.SourceRevision) []configv1beta1.SourceRevision {
	for _, r := range revs {
		if r.Kind == rev.Kind && r.Namespace == rev.Namespace && r.Name == rev.Name {
			return revs
		}
	}
	return append(revs, rev)
}
