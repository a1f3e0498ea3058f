package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/kustomize"
	"github.com/tugboat-dev/tugboat/internal/sources"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// deployKustomize runs the Kustomize feature (kustomizationRefs): each referenced
// ConfigMap/Secret holds a kustomization (files as keys, or a tarball), built in
// memory and deployed like policyRefs.
func (r *SummaryReconciler) deployKustomize(ctx context.Context, run *featureRun) (ctrl.Result, error) {
	result, err := r.deployObjects(ctx, run, libv1beta1.FeatureKustomize, len(run.s.Spec.ClusterProfileSpec.KustomizationRefs) > 0,
		func() (objectSource, error) { return r.collectKustomizations(ctx, run) })
	return refetchRemote(run.s, result), err
}

// kustomizeInputs are the kustomizations of one summary, read from the management cluster.
type kustomizeInputs struct {
	spec      *configv1beta1.Spec
	cluster   map[string]any
	sources   []kustomizeSource
	revisions []configv1beta1.SourceRevision
}

// sourceRevisions are the revisions of the Flux sources the kustomizations come from.
func (in *kustomizeInputs) sourceRevisions() []configv1beta1.SourceRevision { return in.revisions }

type kustomizeSource struct {
	ref libv1beta1.KustomizationRef
	// where names the ref in messages (kustomizationRefs[i]).
	where     string
	namespace string
	files     map[string][]byte
	values    map[string]string
}

func (r *SummaryReconciler) collectKustomizations(ctx context.Context, run *featureRun) (*kustomizeInputs, error) {
	s, cluster, profileNamespace := run.s, run.cluster, referenceNamespace(run.prof)
	clusterMap, err := templating.ClusterMap(cluster.Object)
	if err != nil {
		return nil, err
	}
	in := &kustomizeInputs{spec: run.spec(), cluster: clusterMap}
	defaultNS := s.Spec.ClusterNamespace
	if profileNamespace != "" {
		defaultNS = profileNamespace
	}
	tmpl := templating.NewProfileContext(clusterMap, nil)
	for i, ref := range in.spec.KustomizationRefs {
		ns := ref.Namespace
		if ns == "" {
			ns = defaultNS
		}
		where := fmt.Sprintf("kustomizationRefs[%d]", i)
		var files map[string][]byte
		if ref.RemoteURL != nil {
			// The archive comes from the URL; kind and name only name the source.
			archive, err := r.remoteArchive(ctx, *ref.RemoteURL, where, defaultNS, profileNamespace)
			if err != nil {
				return nil, err
			}
			files = map[string][]byte{remoteArchiveName: archive}
		} else {
			key := types.NamespacedName{Namespace: ns, Name: ref.Name}
			var found bool
			files, found, err = r.kustomizationFiles(ctx, in, ref.Kind, key, where, ref.Optional)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
		}
		// Values are templates over the cluster, like Helm values: first those of
		// valuesFrom (in order, each object's keys in name order), then values.
		values := map[string]string{}
		sources, err := r.renderValuesFrom(ctx, tmpl, ref.ValuesFrom, defaultNS, func(j int) string {
			return fmt.Sprintf("kustomizationRefs[%d].valuesFrom[%d]", i, j)
		})
		if err != nil {
			return nil, err
		}
		for _, src := range sources {
			for _, v := range src.rendered {
				values[v.key] = v.text
			}
		}
		for k, v := range ref.Values {
			out, err := tmpl.Render(fmt.Sprintf("kustomizationRefs[%d].values.%s", i, k), v)
			if err != nil {
				return nil, renderError{err}
			}
			values[k] = out
		}
		in.sources = append(in.sources, kustomizeSource{ref: ref, where: where, namespace: ns, files: files, values: values})
	}
	return in, nil
}

// kustomizationFiles reads the files of a kustomizationRef: a ConfigMap's or
// Secret's keys (files or tarballs), or a Flux source's whole artifact (the
// ref's path then names the kustomization inside it).
func (r *SummaryReconciler) kustomizationFiles(ctx context.Context, in *kustomizeInputs, kind string, key types.NamespacedName, where string, optional bool) (map[string][]byte, bool, error) {
	if sources.IsSourceKind(kind) {
		files, rev, found, err := r.sourceFiles(ctx, kind, key, "", where, optional)
		if found {
			in.revisions = addRevision(in.revisions, rev)
		}
		return files, found, err
	}
	obj, found, err := r.getSource(ctx, kind, key, where, optional)
	if err != nil || !found {
		return nil, found, err
	}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		return kustomize.FilesFromConfigMap(o), true, nil
	case *corev1.Secret:
		return kustomize.FilesFromSecret(o), true, nil
	}
	return nil, false, fmt.Errorf("%s: unexpected %T", where, obj)
}

func (in *kustomizeInputs) hash() ([]byte, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, v := range []any{in.spec.KustomizationRefs, in.spec.Tier, in.spec.ContinueOnConflict, in.spec.ContinueOnError,
		in.spec.Patches, in.spec.DriftExclusions, in.spec.ExtraLabels, in.spec.ExtraAnnotations, in.spec.SyncMode} {
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
	}
	for _, src := range in.sources {
		for _, n := range slices.Sorted(maps.Keys(src.files)) {
			if err := enc.Encode([]any{src.namespace, n, src.files[n]}); err != nil {
				return nil, err
			}
		}
		if err := enc.Encode(src.values); err != nil {
			return nil, err
		}
	}
	return h.Sum(nil), nil
}

func (in *kustomizeInputs) render() (remote, local []deployer.Desired, err error) {
	for _, src := range in.sources {
		name := fmt.Sprintf("%s %s/%s", src.ref.Kind, src.namespace, src.ref.Name)
		if src.ref.RemoteURL != nil {
			name = fmt.Sprintf("%s remoteURL %s", src.where, src.ref.RemoteURL.URL)
		}
		opts := kustomize.Options{Path: src.ref.Path, TargetNamespace: src.ref.TargetNamespace, Components: src.ref.Components, Source: name}
		if len(src.values) > 0 {
			opts.Values = src.values
		}
		objs, err := kustomize.Build(src.files, opts)
		if err != nil {
			return nil, nil, renderError{err}
		}
		source := deployer.Source{Kind: src.ref.Kind, Namespace: src.namespace, Name: src.ref.Name, Tier: src.ref.Tier}
		remote, local = destined(remote, local, objs, source, src.ref.DeploymentType, src.ref.SkipNamespaceCreation, src.ref.Force)
	}
	return remote, local, nil
}
