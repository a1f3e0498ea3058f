package profiles

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
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

// templateMarker in a file of a Flux source makes it a template, as the
// annotation does on a ConfigMap or Secret.
const templateMarker = "projectsveltos.io/template"

// addRevision records rev once in revs.
func addRevision(revs []configv1beta1.SourceRevision, rev configv1beta1.SourceRevision) []configv1beta1.SourceRevision {
	for _, r := range revs {
		if r.Kind == rev.Kind && r.Namespace == rev.Namespace && r.Name == rev.Name {
			return revs
		}
	}
	return append(revs, rev)
}
