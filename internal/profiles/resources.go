package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/sources"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// inputs is everything the Resources feature of one summary is built from, read
// from the management cluster.
type inputs struct {
	spec          *configv1beta1.Spec
	cluster       map[string]any
	clusterLabels map[string]string
	// sources are the referenced ConfigMaps/Secrets, in policyRefs order (absent optional ones skipped).
	sources []policySource
	// mgmtResources are the templateResourceRefs by identifier.
	mgmtResources map[string]map[string]any
	// mgmtWatched are the parts of mgmtResources whose change deploys again
	// (ignoreStatusChanges, watchFields), by identifier: what the hash covers.
	mgmtWatched map[string]any
	// revisions are those of the Flux sources read.
	revisions []configv1beta1.SourceRevision
}

type policySource struct {
	ref         libv1beta1.PolicyRef
	kind        string
	namespace   string
	name        string
	annotations map[string]string
	data        map[string]string
	// revision is the artifact revision of a Flux source (named in errors; the
	// hash covers the content, so a new revision with the same files deploys nothing).
	revision string
	// url is where the content was fetched from (remoteURL), named in errors.
	url string
}

// renderError is a problem in the user's input (a template, a YAML document, a
// missing reference): retrying without a change will not help.
type renderError struct{ error }

func (e renderError) Unwrap() error { return e.error }

// renderIfTemplate renders v, the field of the spec named where, through pc
// when it holds a template ("{{"), and returns it as is otherwise; a failure is
// a renderError.
func renderIfTemplate(pc templating.ProfileContext, where, v string) (string, error) {
	if !strings.Contains(v, "{{") {
		return v, nil
	}
	out, err := pc.Render(where, v)
	if err != nil {
		return "", renderError{err}
	}
	return out, nil
}

// collect reads the referenced objects of a summary. referenceNamespace is where
// references with an empty namespace resolve (the cluster's namespace for a
// ClusterProfile, the profile's own for a Profile).
func (r *SummaryReconciler) collect(ctx context.Context, run *featureRun) (*inputs, error) {
	s, cluster, profileNamespace := run.s, run.cluster, referenceNamespace(run.prof)
	clusterMap, err := templating.ClusterMap(cluster.Object)
	if err != nil {
		return nil, err
	}
	in := &inputs{spec: run.spec(), cluster: clusterMap, clusterLabels: cluster.Labels, mgmtResources: map[string]map[string]any{}, mgmtWatched: map[string]any{}}
	defaultNS := s.Spec.ClusterNamespace
	if profileNamespace != "" {
		defaultNS = profileNamespace
	}
	plain := templating.NewProfileContext(clusterMap, nil)
	renderName := func(what, v string) (string, error) { return renderIfTemplate(plain, what, v) }

	spec := &s.Spec.ClusterProfileSpec
	for i, tr := range spec.TemplateResourceRefs {
		name, err := renderName(fmt.Sprintf("templateResourceRefs[%d].resource.name", i), tr.Resource.Name)
		if err != nil {
			return nil, err
		}
		ns, err := renderName(fmt.Sprintf("templateResourceRefs[%d].resource.namespace", i), tr.Resource.Namespace)
		if err != nil {
			return nil, err
		}
		if ns == "" {
			ns = defaultNS
		}
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(schema.FromAPIVersionAndKind(tr.Resource.APIVersion, tr.Resource.Kind))
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
			if apierrors.IsNotFound(err) && tr.Optional {
				continue
			}
			if apierrors.IsNotFound(err) {
				return nil, renderError{fmt.Errorf("templateResourceRef %s: %s %s/%s not found", tr.Identifier, tr.Resource.Kind, ns, name)}
			}
			return nil, fmt.Errorf("reading templateResourceRef %s (%s %s/%s): %w", tr.Identifier, tr.Resource.Kind, ns, name, err)
		}
		if err := r.templateKinds.ensure(ctx, obj.GroupVersionKind()); err != nil {
			return nil, err
		}
		in.mgmtResources[tr.Identifier] = obj.Object
		watched, err := watchedContent(obj.Object, tr, fmt.Sprintf("templateResourceRefs[%d]", i))
		if err != nil {
			return nil, renderError{err}
		}
		in.mgmtWatched[tr.Identifier] = watched
	}

	for i, ref := range spec.PolicyRefs {
		name, err := renderName(fmt.Sprintf("policyRefs[%d].name", i), ref.Name)
		if err != nil {
			return nil, err
		}
		ns, err := renderName(fmt.Sprintf("policyRefs[%d].namespace", i), ref.Namespace)
		if err != nil {
			return nil, err
		}
		if ns == "" {
			ns = defaultNS
		}
		src := policySource{ref: ref, kind: ref.Kind, namespace: ns, name: name, data: map[string]string{}}
		key := types.NamespacedName{Namespace: ns, Name: name}
		if ref.RemoteURL != nil {
			if err := remoteSecretInProfileNamespace(*ref.RemoteURL, fmt.Sprintf("policyRefs[%d]", i), profileNamespace); err != nil {
				return nil, err
			}
			// The content comes from the URL; kind and name only name the source.
			body, err := r.remoteContent.Get(ctx, r.Client, *ref.RemoteURL, defaultNS)
			if err != nil {
				// Not retried with backoff: the next fetch comes at the ref's
				// interval (refetchRemote), or with the next reconcile (a change of
				// the profile or Secret); a failure is not cached.
				return nil, renderError{fmt.Errorf("policyRefs[%d].remoteURL: %w", i, err)}
			}
			src.url = ref.RemoteURL.URL
			src.data[ref.RemoteURL.URL] = string(body)
			if ref.RemoteURL.Template {
				src.annotations = map[string]string{libv1beta1.TemplateAnnotation: "ok"}
			}
			in.sources = append(in.sources, src)
			continue
		}
		if sources.IsSourceKind(ref.Kind) {
			files, rev, found, err := r.sourceFiles(ctx, ref.Kind, key, ref.Path, fmt.Sprintf("policyRefs[%d]", i), ref.Optional)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
			in.revisions = addRevision(in.revisions, rev)
			// One source per file, each a template when it says so; errors name the
			// source, its revision and the file.
			for _, f := range slices.Sorted(maps.Keys(files)) {
				if !manifestFile(f) {
					continue
				}
				fileSrc := src
				fileSrc.data = map[string]string{path.Join(ref.Path, f): string(files[f])}
				fileSrc.revision = rev.Revision
				if templateFile(files[f]) {
					fileSrc.annotations = map[string]string{libv1beta1.TemplateAnnotation: "ok"}
				}
				in.sources = append(in.sources, fileSrc)
			}
			continue
		}
		obj, found, err := r.getSource(ctx, ref.Kind, key, fmt.Sprintf("policyRefs[%d]", i), ref.Optional)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		src.annotations = obj.GetAnnotations()
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			maps.Copy(src.data, o.Data)
		case *corev1.Secret:
			if o.Type != libv1beta1.ClusterProfileSecretType {
				return nil, renderError{fmt.Errorf("policyRefs[%d]: Secret %s has type %q; Secrets holding resources must have type %s", i, key, o.Type, libv1beta1.ClusterProfileSecretType)}
			}
			for k, v := range o.Data {
				src.data[k] = string(v)
			}
		}
		in.sources = append(in.sources, src)
	}
	return in, nil
}

// getSource reads the ConfigMap or Secret (by kind) a profile refers to; any
// other kind is bad input. A missing one is bad input unless optional (found is
// then false).
func (r *SummaryReconciler) getSource(ctx context.Context, kind string, key types.NamespacedName, where string, optional bool) (obj client.Object, found bool, err error) {
	switch kind {
	case "ConfigMap":
		obj = &corev1.ConfigMap{}
	case "Secret":
		obj = &corev1.Secret{}
	default:
		return nil, false, renderError{fmt.Errorf("%s: kind %s is not supported yet (ConfigMap and Secret are)", where, kind)}
	}
	found, err = r.getReference(ctx, key, obj, where, optional)
	return obj, found, err
}

// getReference reads a ConfigMap or Secret a profile refers to. A missing one is
// bad input naming where it was referenced, unless optional (found is then false).
func (r *SummaryReconciler) getReference(ctx context.Context, key types.NamespacedName, obj client.Object, where string, optional bool) (found bool, err error) {
	kind := "ConfigMap"
	if _, ok := obj.(*corev1.Secret); ok {
		kind = "Secret"
	}
	if err := r.Client.Get(ctx, key, obj); err != nil {
		if !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("reading %s %s: %w", kind, key, err)
		}
		if optional {
			return false, nil
		}
		return false, renderError{fmt.Errorf("%s: %s %s not found", where, kind, key)}
	}
	return true, nil
}

// eventTime is the latest time an EventTrigger acted on an event behind one of
// the sources (zero when none came from an event).
func (in *inputs) eventTime() time.Time {
	var latest time.Time
	for _, src := range in.sources {
		if t, err := time.Parse(time.RFC3339Nano, src.annotations[libv1beta1.EventObservedAnnotation]); err == nil && t.After(latest) {
			latest = t
		}
	}
	return latest
}

// hash covers everything the Resources feature's result depends on.
func (in *inputs) hash() ([]byte, error) {
	spec := in.spec
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, v := range []any{
		spec.PolicyRefs, spec.TemplateResourceRefs, spec.Tier, spec.ContinueOnConflict, spec.ContinueOnError,
		spec.Patches, spec.DriftExclusions, spec.ExtraLabels, spec.ExtraAnnotations, spec.SyncMode,
		in.cluster, in.mgmtWatched,
	} {
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
	}
	for _, src := range in.sources {
		if err := enc.Encode([]any{src.kind, src.namespace, src.name, src.annotations, src.data}); err != nil {
			return nil, err
		}
	}
	return h.Sum(nil), nil
}

// sourceRevisions are the revisions of the Flux sources the objects come from.
func (in *inputs) sourceRevisions() []configv1beta1.SourceRevision { return in.revisions }

// render turns the sources into the objects to deploy, split by destination.
func (in *inputs) render() (remote, local []deployer.Desired, err error) {
	ctx := templating.NewProfileContext(in.cluster, in.mgmtResources)
	for _, src := range in.sources {
		if _, lua := src.annotations[libv1beta1.LuaAnnotation]; lua {
			// Deploying the Lua program's text as manifests would be wrong in silence.
			return nil, nil, renderError{fmt.Errorf("%s %s/%s: Lua templates (annotation %s) are not supported by this version of Tugboat: use Go templates (%s)",
				src.kind, src.namespace, src.name, libv1beta1.LuaAnnotation, libv1beta1.TemplateAnnotation)}
		}
		for _, k := range slices.Sorted(maps.Keys(src.data)) {
			name := templating.SourceName(src.kind, src.namespace, src.name, k)
			if src.revision != "" {
				name = fmt.Sprintf("%s %s/%s revision %s file %s", src.kind, src.namespace, src.name, src.revision, k)
			}
			if src.url != "" {
				name = "remoteURL " + src.url
			}
			text := src.data[k]
			if templating.IsTemplate(src.annotations) {
				if text, err = ctx.Render(name, text); err != nil {
					return nil, nil, renderError{err}
				}
			}
			objs, err := templating.SplitDocuments(name, text)
			if err != nil {
				return nil, nil, renderError{err}
			}
			source := deployer.Source{Kind: src.kind, Namespace: src.namespace, Name: src.name, Tier: src.ref.Tier}
			remote, local = destined(remote, local, objs, source, src.ref.DeploymentType, src.ref.SkipNamespaceCreation, src.ref.Force)
		}
	}
	return remote, local, nil
}

// destined appends the objects one reference yields to remote, or to local
// when the reference deploys them into the management cluster (Local).
func destined(remote, local []deployer.Desired, objs []*unstructured.Unstructured, source deployer.Source,
	deployment libv1beta1.DeploymentType, skipNamespaceCreation, force bool) (remoteOut, localOut []deployer.Desired) {
	for _, o := range objs {
		d := deployer.Desired{Object: o, Source: source, SkipNamespaceCreation: skipNamespaceCreation, Force: force}
		if deployment == libv1beta1.DeploymentTypeLocal {
			local = append(local, d)
		} else {
			remote = append(remote, d)
		}
	}
	return remote, local
}

// referencedKeys are the ConfigMaps/Secrets a summary reads, as "Kind/namespace/name",
// for the index that maps their changes back to the summary.
func referencedKeys(s *configv1beta1.ClusterSummary, profileNamespace string) []string {
	defaultNS := s.Spec.ClusterNamespace
	if profileNamespace != "" {
		defaultNS = profileNamespace
	}
	var keys []string
	add := func(kind, ns, name string) {
		if strings.Contains(ns+name, "{{") {
			return // templated names are resolved per cluster; a resync picks them up
		}
		if ns == "" {
			ns = defaultNS
		}
		keys = append(keys, kind+"/"+ns+"/"+name)
	}
	spec := &s.Spec.ClusterProfileSpec
	for _, ref := range spec.PolicyRefs {
		add(ref.Kind, ref.Namespace, ref.Name)
		if ref.RemoteURL != nil && ref.RemoteURL.SecretRef != nil {
			add("Secret", ref.RemoteURL.SecretRef.Namespace, ref.RemoteURL.SecretRef.Name)
		}
	}
	for _, tr := range spec.TemplateResourceRefs {
		add(tr.Resource.Kind, tr.Resource.Namespace, tr.Resource.Name)
	}
	for _, kr := range spec.KustomizationRefs {
		add(kr.Kind, kr.Namespace, kr.Name)
		if kr.RemoteURL != nil && kr.RemoteURL.SecretRef != nil {
			add("Secret", kr.RemoteURL.SecretRef.Namespace, kr.RemoteURL.SecretRef.Name)
		}
		for _, vf := range kr.ValuesFrom {
			add(vf.Kind, vf.Namespace, vf.Name)
		}
	}
	for _, hc := range spec.HelmCharts {
		for _, vf := range hc.ValuesFrom {
			add(vf.Kind, vf.Namespace, vf.Name)
		}
		for _, ref := range helm.SecretRefs(hc) {
			add("Secret", ref.Namespace, ref.Name)
		}
	}
	for _, pf := range spec.PatchesFrom {
		add(pf.Kind, pf.Namespace, pf.Name)
	}
	// The Job manifests and Prometheus credentials of the checks (health_jobs.go,
	// health_metrics.go): a change evaluates the checks again.
	for _, list := range [][]libv1beta1.ValidateHealth{spec.ValidateHealths, spec.PreDeployChecks, spec.PreDeleteChecks, spec.PostDeleteChecks} {
		for _, vh := range list {
			if vh.JobCheck != nil {
				add(vh.JobCheck.JobRef.Kind, vh.JobCheck.JobRef.Namespace, vh.JobCheck.JobRef.Name)
			}
			if vh.MetricSource != nil && vh.MetricSource.SecretRef != nil {
				add("Secret", vh.MetricSource.SecretRef.Namespace, vh.MetricSource.SecretRef.Name)
			}
		}
	}
	return keys
}
