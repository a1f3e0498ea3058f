package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// SpecHashAnnotation holds, on a generated ClusterProfile, the hash of the
// labels and spec it was last written with: an unchanged hash costs no write.
const SpecHashAnnotation = "eventtrigger.lib.projectsveltos.io/hash"

// origin identifies what a generated object stands for: one matching resource
// (oneForEvent) or all matches of a source cluster.
type origin struct {
	trigger     string
	cluster     libv1beta1.ClusterID
	eventSource string
	// resource is set for oneForEvent triggers of resource events.
	resource *types.NamespacedName
	// cloudEvent is the (source, subject) pair, for oneForEvent triggers of CloudEvents.
	cloudEvent *[2]string
}

func (o origin) key() string {
	parts := []string{o.trigger, o.cluster.Namespace, o.cluster.Name}
	if o.cluster.IsCAPI() {
		// SveltosClusters keep the names they always had.
		parts = append(parts, string(o.cluster.Type))
	}
	if o.resource != nil {
		parts = append(parts, o.resource.Namespace, o.resource.Name)
	}
	if o.cloudEvent != nil {
		parts = append(parts, "cloudevent", o.cloudEvent[0], o.cloudEvent[1])
	}
	return strings.Join(parts, "\x00")
}

// labels are the origin labels of the spec, on every generated object.
func (o origin) labels() map[string]string {
	l := map[string]string{
		libv1beta1.EventTriggerNameLabel:             labelValue(o.trigger),
		libv1beta1.EventTriggerClusterNamespaceLabel: labelValue(o.cluster.Namespace),
		libv1beta1.EventTriggerClusterNameLabel:      labelValue(o.cluster.Name),
		libv1beta1.EventTriggerClusterTypeLabel:      string(o.cluster.Normal().Type),
		libv1beta1.EventTriggerEventSourceNameLabel:  labelValue(o.eventSource),
	}
	if o.resource != nil {
		l[libv1beta1.EventTriggerResourceNameLabel] = labelValue(o.resource.Name)
		l[libv1beta1.EventTriggerResourceNamespaceLabel] = labelValue(o.resource.Namespace)
	}
	if o.cloudEvent != nil {
		l[libv1beta1.EventTriggerCloudEventSourceLabel] = labelValue(o.cloudEvent[0])
		l[libv1beta1.EventTriggerCloudEventSubjectLabel] = labelValue(o.cloudEvent[1])
	}
	return l
}

// labelValue returns v when it is a valid label value, else a stable short
// hash of it (names may be longer than the 63 characters a label allows).
func labelValue(v string) string {
	if len(validation.IsValidLabelValue(v)) == 0 {
		return v
	}
	return "h-" + shortHash(v)
}

func shortHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:16]
}

// renderer is an instantiate-stage context (one event or all events of a
// cluster): Go templates render with it, Lua programs read its globals.
type renderer interface {
	Render(name, text string) (string, error)
	luaGlobals() map[string]any
}

// desired is everything one EventTrigger should have generated.
type desired struct {
	profiles   map[string]*configv1beta1.ClusterProfile
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func newDesired() *desired {
	return &desired{
		profiles:   map[string]*configv1beta1.ClusterProfile{},
		configMaps: map[string]*corev1.ConfigMap{},
		secrets:    map[string]*corev1.Secret{},
	}
}

// merge adds what another cluster's generation produced.
func (d *desired) merge(o *desired) {
	maps.Copy(d.profiles, o.profiles)
	maps.Copy(d.configMaps, o.configMaps)
	maps.Copy(d.secrets, o.secrets)
}

// hash summarises the generated objects (their names and content).
func (d *desired) hash() []byte {
	h := sha256.New()
	for _, n := range slices.Sorted(maps.Keys(d.profiles)) {
		fmt.Fprintf(h, "profile %s %s\n", n, d.profiles[n].Annotations[SpecHashAnnotation])
	}
	for _, n := range slices.Sorted(maps.Keys(d.configMaps)) {
		b, _ := json.Marshal(d.configMaps[n])
		fmt.Fprintf(h, "configmap %s %s\n", n, b)
	}
	for _, n := range slices.Sorted(maps.Keys(d.secrets)) {
		b, _ := json.Marshal(d.secrets[n])
		fmt.Fprintf(h, "secret %s %s\n", n, b)
	}
	return h.Sum(nil)
}

// generator renders what one EventTrigger generates for one source cluster.
type generator struct {
	reader    client.Reader
	namespace string
	trigger   *libv1beta1.EventTrigger
	out       *desired
}

func (g *generator) fieldName(field string) string {
	return fmt.Sprintf("EventTrigger %s %s", g.trigger.Name, field)
}

// render renders one templated field of the trigger (a name, a namespace, values).
func (g *generator) render(r renderer, field, text string) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	return r.Render(g.fieldName(field), text)
}

// event generates the ClusterProfile (and instantiated ConfigMaps/Secrets) of one origin.
func (g *generator) event(ctx context.Context, o origin, r renderer) error {
	spec := g.trigger.Spec.DeepCopy()
	p := &configv1beta1.ClusterProfile{
		TypeMeta: metav1.TypeMeta{APIVersion: configv1beta1.GroupVersion.String(), Kind: configv1beta1.ClusterProfileKind},
	}
	name, err := g.profileName(o, r)
	if err != nil {
		return err
	}
	p.Name = name
	p.Labels = o.labels()
	p.Spec = configv1beta1.Spec{
		SyncMode:               spec.SyncMode,
		StopMatchingBehavior:   spec.StopMatchingBehavior,
		Tier:                   spec.Tier,
		ContinueOnConflict:     spec.ContinueOnConflict,
		ContinueOnError:        spec.ContinueOnError,
		MaxUpdate:              spec.MaxUpdate,
		MaxConsecutiveFailures: spec.MaxConsecutiveFailures,
		Reloader:               spec.Reloader,
		PreDeployChecks:        spec.PreDeployChecks,
		PreDeleteChecks:        spec.PreDeleteChecks,
		PostDeleteChecks:       spec.PostDeleteChecks,
		DependsOn:              spec.DependsOn,
		TemplateResourceRefs:   spec.TemplateResourceRefs,
		Patches:                spec.Patches,
		DriftExclusions:        spec.DriftExclusions,
		ValidateHealths:        spec.ValidateHealths,
		ExtraLabels:            spec.ExtraLabels,
		ExtraAnnotations:       spec.ExtraAnnotations,
	}
	switch {
	case !spec.DestinationClusterSelector.IsEmpty():
		p.Spec.ClusterSelector = spec.DestinationClusterSelector
	case spec.DestinationCluster != nil:
		ref := *spec.DestinationCluster
		if ref.Namespace, err = g.render(r, "destinationCluster.namespace", ref.Namespace); err != nil {
			return err
		}
		if ref.Name, err = g.render(r, "destinationCluster.name", ref.Name); err != nil {
			return err
		}
		if ref.Kind == "" {
			ref.Kind = libv1beta1.SveltosClusterKind
		}
		if ref.APIVersion == "" {
			ref.APIVersion = libv1beta1.GroupVersion.String()
		}
		p.Spec.ClusterRefs = []corev1.ObjectReference{ref}
	default:
		p.Spec.ClusterRefs = []corev1.ObjectReference{o.cluster.Ref()}
	}

	for i := range spec.PolicyRefs {
		ref := &spec.PolicyRefs[i]
		field := fmt.Sprintf("policyRefs[%d]", i)
		if ref.Path, err = g.render(r, field+".path", ref.Path); err != nil {
			return err
		}
		if ref.Namespace, ref.Name, err = g.instantiate(ctx, o, r, field, ref.Kind, ref.Namespace, ref.Name, ref.Optional); err != nil {
			return err
		}
	}
	p.Spec.PolicyRefs = spec.PolicyRefs

	for i := range spec.HelmCharts {
		if err := g.helmChart(ctx, o, r, fmt.Sprintf("helmCharts[%d]", i), &spec.HelmCharts[i]); err != nil {
			return err
		}
	}
	p.Spec.HelmCharts = spec.HelmCharts

	for i := range spec.KustomizationRefs {
		if err := g.kustomizationRef(ctx, o, r, fmt.Sprintf("kustomizationRefs[%d]", i), &spec.KustomizationRefs[i]); err != nil {
			return err
		}
	}
	p.Spec.KustomizationRefs = spec.KustomizationRefs

	for i := range spec.PatchesFrom {
		vf := &spec.PatchesFrom[i]
		if vf.Namespace, vf.Name, err = g.instantiate(ctx, o, r, fmt.Sprintf("patchesFrom[%d]", i), vf.Kind, vf.Namespace, vf.Name, vf.Optional); err != nil {
			return err
		}
	}
	p.Spec.PatchesFrom = spec.PatchesFrom

	if err := g.generators(ctx, o, r); err != nil {
		return err
	}

	p.Annotations = map[string]string{SpecHashAnnotation: profileHash(p)}
	if prev, ok := g.out.profiles[p.Name]; ok && prev.Annotations[SpecHashAnnotation] != p.Annotations[SpecHashAnnotation] {
		return fmt.Errorf("%s renders the same ClusterProfile name %q for different events", g.fieldName("profileNameFormat"), p.Name)
	}
	g.out.profiles[p.Name] = p
	return nil
}

func profileHash(p *configv1beta1.ClusterProfile) string {
	b, _ := json.Marshal(struct {
		Labels map[string]string  `json:"labels"`
		Spec   configv1beta1.Spec `json:"spec"`
	}{p.Labels, p.Spec})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (g *generator) profileName(o origin, r renderer) (string, error) {
	if g.trigger.Spec.ProfileNameFormat == "" {
		return libv1beta1.BoundedName(g.trigger.Name + "-" + shortHash(o.key())), nil
	}
	name, err := r.Render(g.fieldName("profileNameFormat"), g.trigger.Spec.ProfileNameFormat)
	if err != nil {
		return "", err
	}
	name = strings.TrimSpace(name)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", fmt.Errorf("%s: rendered name %q is not a valid object name: %s", g.fieldName("profileNameFormat"), name, strings.Join(errs, "; "))
	}
	return name, nil
}

func (g *generator) helmChart(ctx context.Context, o origin, r renderer, field string, c *libv1beta1.HelmChart) error {
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"repositoryURL", &c.RepositoryURL}, {"repositoryName", &c.RepositoryName}, {"chartName", &c.ChartName},
		{"chartVersion", &c.ChartVersion}, {"releaseName", &c.ReleaseName}, {"releaseNamespace", &c.ReleaseNamespace},
		{"values", &c.Values},
	} {
		v, err := g.render(r, field+"."+f.name, *f.v)
		if err != nil {
			return err
		}
		*f.v = v
	}
	for j := range c.ValuesFrom {
		vf := &c.ValuesFrom[j]
		var err error
		if vf.Namespace, vf.Name, err = g.instantiate(ctx, o, r, fmt.Sprintf("%s.valuesFrom[%d]", field, j), vf.Kind, vf.Namespace, vf.Name, vf.Optional); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) kustomizationRef(ctx context.Context, o origin, r renderer, field string, k *libv1beta1.KustomizationRef) error {
	var err error
	if k.Path, err = g.render(r, field+".path", k.Path); err != nil {
		return err
	}
	if k.TargetNamespace, err = g.render(r, field+".targetNamespace", k.TargetNamespace); err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(k.Values)) {
		if k.Values[key], err = g.render(r, fmt.Sprintf("%s.values[%s]", field, key), k.Values[key]); err != nil {
			return err
		}
	}
	if k.Namespace, k.Name, err = g.instantiate(ctx, o, r, field, k.Kind, k.Namespace, k.Name, k.Optional); err != nil {
		return err
	}
	for j := range k.ValuesFrom {
		vf := &k.ValuesFrom[j]
		if vf.Namespace, vf.Name, err = g.instantiate(ctx, o, r, fmt.Sprintf("%s.valuesFrom[%d]", field, j), vf.Kind, vf.Namespace, vf.Name, vf.Optional); err != nil {
			return err
		}
	}
	return nil
}

// instantiate resolves one reference. Its name and namespace are rendered; a
// ConfigMap/Secret carrying the instantiate annotation is rendered into a new
// object in Tugboat's namespace, and the reference then points at it. Other
// references pass through (with rendered name and namespace).
func (g *generator) instantiate(ctx context.Context, o origin, r renderer, field, kind, namespace, name string, optional bool) (string, string, error) {
	namespace, err := g.render(r, field+".namespace", namespace)
	if err != nil {
		return "", "", err
	}
	if name, err = g.render(r, field+".name", name); err != nil {
		return "", "", err
	}
	if kind != libv1beta1.ConfigMapReferencedKind && kind != libv1beta1.SecretReferencedKind {
		return namespace, name, nil
	}
	readNamespace := namespace
	if readNamespace == "" {
		readNamespace = o.cluster.Namespace
	}
	key := types.NamespacedName{Namespace: readNamespace, Name: name}
	src, err := g.source(ctx, kind, key)
	if err != nil {
		if apierrors.IsNotFound(err) {
			if optional {
				return namespace, name, nil
			}
			return "", "", fmt.Errorf("%s: %s %s not found", g.fieldName(field), kind, key)
		}
		return "", "", fmt.Errorf("%s: reading %s %s: %w", g.fieldName(field), kind, key, err)
	}
	if !templating.IsInstantiate(src.GetAnnotations()) {
		return namespace, name, nil
	}
	newName := libv1beta1.BoundedName(g.trigger.Name + "-" + shortHash(o.key(), kind, key.Namespace, key.Name))
	if err := g.copyRendered(o, r, field, src, kind, key, newName); err != nil {
		return "", "", err
	}
	return g.namespace, newName, nil
}

// source reads a ConfigMap or Secret of the management cluster.
func (g *generator) source(ctx context.Context, kind string, key types.NamespacedName) (client.Object, error) {
	var obj client.Object = &corev1.ConfigMap{}
	if kind == libv1beta1.SecretReferencedKind {
		obj = &corev1.Secret{}
	}
	if err := g.reader.Get(ctx, key, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// copyRendered renders every data value of src and records the result as the
// ConfigMap/Secret newName in Tugboat's namespace.
func (g *generator) copyRendered(o origin, r renderer, field string, src client.Object, kind string, key types.NamespacedName, newName string) error {
	labels := o.labels()
	labels[libv1beta1.EventTriggerRefNameLabel] = labelValue(key.Name)
	labels[libv1beta1.EventTriggerRefNamespaceLabel] = labelValue(key.Namespace)
	annotations := map[string]string{}
	for k, v := range src.GetAnnotations() {
		if k == libv1beta1.InstantiateAnnotation || k == libv1beta1.LuaAnnotation || k == corev1.LastAppliedConfigAnnotation {
			continue
		}
		annotations[k] = v
	}
	instantiate := r.Render
	if isLua(src.GetAnnotations()) {
		// The data values are Lua programs; the copy holds what they return.
		instantiate = func(name, text string) (string, error) {
			out, err := runLuaTemplate(name, text, r.luaGlobals())
			if err != nil {
				return "", fmt.Errorf("%s: %w", g.fieldName(field), err)
			}
			return out, nil
		}
	}
	meta := metav1.ObjectMeta{Namespace: g.namespace, Name: newName, Labels: labels, Annotations: annotations}
	switch s := src.(type) {
	case *corev1.ConfigMap:
		data := make(map[string]string, len(s.Data))
		for _, k := range slices.Sorted(maps.Keys(s.Data)) {
			v, err := instantiate(templating.SourceName(kind, key.Namespace, key.Name, k), s.Data[k])
			if err != nil {
				return err
			}
			data[k] = v
		}
		cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: meta, Data: data, BinaryData: s.BinaryData}
		g.out.configMaps[newName] = cm
	case *corev1.Secret:
		data := make(map[string][]byte, len(s.Data))
		for _, k := range slices.Sorted(maps.Keys(s.Data)) {
			v, err := instantiate(templating.SourceName(kind, key.Namespace, key.Name, k), string(s.Data[k]))
			if err != nil {
				return err
			}
			data[k] = []byte(v)
		}
		sec := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta, Data: data,
			Type: corev1.SecretType(libv1beta1.ClusterProfileSecretType)}
		g.out.secrets[newName] = sec
	}
	return nil
}

// generators renders the trigger's configMapGenerator and secretGenerator
// entries into objects named by their nameFormat in Tugboat's namespace.
func (g *generator) generators(ctx context.Context, o origin, r renderer) error {
	for _, gen := range []struct {
		kind string
		refs []libv1beta1.GeneratorReference
	}{
		{libv1beta1.ConfigMapReferencedKind, g.trigger.Spec.ConfigMapGenerator},
		{libv1beta1.SecretReferencedKind, g.trigger.Spec.SecretGenerator},
	} {
		for i, ref := range gen.refs {
			field := fmt.Sprintf("%sGenerator[%d]", strings.ToLower(gen.kind[:1])+gen.kind[1:], i)
			ns, err := g.render(r, field+".namespace", ref.Namespace)
			if err != nil {
				return err
			}
			if ns == "" {
				ns = o.cluster.Namespace
			}
			srcName, err := g.render(r, field+".name", ref.Name)
			if err != nil {
				return err
			}
			key := types.NamespacedName{Namespace: ns, Name: srcName}
			src, err := g.source(ctx, gen.kind, key)
			switch {
			case apierrors.IsNotFound(err) && ref.Optional:
				continue
			case apierrors.IsNotFound(err):
				return fmt.Errorf("%s: %s %s not found (set optional: true to skip it while it is missing)", g.fieldName(field), gen.kind, key)
			case err != nil:
				return fmt.Errorf("%s: reading %s %s: %w", g.fieldName(field), gen.kind, key, err)
			}
			name, err := r.Render(g.fieldName(field+".nameFormat"), ref.NameFormat)
			if err != nil {
				return err
			}
			name = strings.TrimSpace(name)
			if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
				return fmt.Errorf("%s: rendered name %q is not a valid object name: %s", g.fieldName(field+".nameFormat"), name, strings.Join(errs, "; "))
			}
			if err := g.copyRendered(o, r, field, src, gen.kind, key, name); err != nil {
				return err
			}
		}
	}
	return nil
}
