package explain

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// TemplateInput is one templateResourceRef of a profile resolved for one
// cluster: the management-cluster object its templates read, and where that
// object came from. Only the object's metadata is read, never its data (a
// Secret's stays on the server).
type TemplateInput struct {
	// Identifier is the name templates read it by (getResource "Identifier").
	Identifier string `json:"identifier"`
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion,omitempty"`
	// Namespace and Name are resolved for the cluster: name templates
	// rendered, an empty namespace defaulted as the summary controller does
	// (the cluster's namespace for a ClusterProfile, the Profile's own).
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Optional  bool   `json:"optional,omitempty"`
	// Found says the object exists in the management cluster.
	Found bool `json:"found"`
	// Problem says why the input could not be resolved or read (a name
	// template that fails, a missing object, a read refused), verbatim.
	Problem string `json:"problem,omitempty"`
	// DeployedBy is the profile that put the object there, read from the
	// ownership annotations the deployer writes (nil when no profile did).
	DeployedBy *Producer `json:"deployedBy,omitempty"`
}

// Ref is "Kind namespace/name".
func (t TemplateInput) Ref() string { return t.Kind + " " + qualified(t.Namespace, t.Name) }

// Producer is the profile that deployed an object, and for a generated
// profile the EventTrigger it came from.
type Producer struct {
	// Profile is ClusterProfile/NAME or Profile/NAMESPACE/NAME.
	Profile string `json:"profile"`
	// Feature is the feature that deployed it (Resources, Kustomize, Helm).
	Feature libv1beta1.FeatureID `json:"feature,omitempty"`
	// Cluster is the registration it was deployed through (namespace/name):
	// the management cluster registered as a managed cluster.
	Cluster string `json:"cluster,omitempty"`
	// GeneratedBy is set when an EventTrigger generated the profile.
	GeneratedBy *Origin `json:"generatedBy,omitempty"`
	// Missing says the profile no longer exists (its origin is then unknown).
	Missing bool `json:"missing,omitempty"`
}

// ResolveInputs resolves the profile's templateResourceRefs for a cluster,
// as the summary controller does before it renders: name and namespace
// templates over .Cluster, an empty namespace defaulted. Nothing is read.
func ResolveInputs(profile configv1beta1.ProfileObject, cluster *selection.Cluster) []TemplateInput {
	refs := profile.GetSpec().TemplateResourceRefs
	if len(refs) == 0 {
		return nil
	}
	defaultNS := profile.GetNamespace() // a Profile's own namespace
	var render func(what, v string) (string, error)
	if cluster != nil {
		if defaultNS == "" {
			defaultNS = cluster.ID.Namespace
		}
		if m, err := templating.ClusterMap(cluster.Object); err == nil {
			ctx := templating.NewProfileContext(m, nil)
			render = ctx.Render
		}
	}
	out := make([]TemplateInput, 0, len(refs))
	for i, tr := range refs {
		in := TemplateInput{Identifier: tr.Identifier, Kind: tr.Resource.Kind, APIVersion: tr.Resource.APIVersion,
			Namespace: tr.Resource.Namespace, Name: tr.Resource.Name, Optional: tr.Optional}
		for _, f := range []struct {
			field string
			v     *string
		}{{"name", &in.Name}, {"namespace", &in.Namespace}} {
			field, v := f.field, f.v
			if !strings.Contains(*v, "{{") {
				continue
			}
			if render == nil {
				in.Problem = fmt.Sprintf("templateResourceRefs[%d].resource.%s is a template: it resolves per cluster", i, field)
				continue
			}
			s, err := render(fmt.Sprintf("templateResourceRefs[%d].resource.%s", i, field), *v)
			if err != nil {
				in.Problem = err.Error()
				continue
			}
			*v = s
		}
		if in.Namespace == "" {
			in.Namespace = defaultNS
		}
		out = append(out, in)
	}
	return out
}

// LoadInputs resolves the profile's templateResourceRefs for the cluster and
// reads, for each, the object's metadata (PartialObjectMetadata: a Secret's
// data is not read) and the profile its ownership annotations name, with
// that profile's origin when an EventTrigger generated it. A read that fails
// is recorded in the input's Problem; the others are still loaded.
func LoadInputs(ctx context.Context, r client.Reader, profile configv1beta1.ProfileObject, cluster *selection.Cluster) []TemplateInput {
	inputs := ResolveInputs(profile, cluster)
	for i := range inputs {
		in := &inputs[i]
		if in.Problem != "" {
			continue
		}
		obj := &metav1.PartialObjectMetadata{}
		obj.SetGroupVersionKind(schema.FromAPIVersionAndKind(in.APIVersion, in.Kind))
		switch err := r.Get(ctx, types.NamespacedName{Namespace: in.Namespace, Name: in.Name}, obj); {
		case apierrors.IsNotFound(err):
			in.Problem = in.Ref() + " not found"
			if in.Optional {
				in.Problem += " (optional: templates see no such resource)"
			}
			continue
		case err != nil:
			in.Problem = fmt.Sprintf("reading %s: %v", in.Ref(), err)
			continue
		}
		in.Found = true
		in.DeployedBy = loadProducer(ctx, r, obj)
	}
	return inputs
}

// ProducerOf reads the ownership annotations the deployer writes on what it
// deploys; ok is false for an object no profile deployed.
func ProducerOf(obj metav1.Object) (p Producer, ref configv1beta1.ProfileRef, ok bool) {
	owner, feature, ok := deployer.OwnerOf(obj)
	kind, name := owner.Kind, owner.Name
	if !ok || name == "" || (kind != configv1beta1.ClusterProfileKind && kind != configv1beta1.ProfileKind) {
		return Producer{}, configv1beta1.ProfileRef{}, false
	}
	ref = configv1beta1.ProfileRef{Kind: kind, Name: name}
	cluster := owner.Cluster
	if kind == configv1beta1.ProfileKind {
		// A Profile deploys to clusters of its own namespace only.
		ns, _, found := strings.Cut(cluster, "/")
		if !found {
			return Producer{}, configv1beta1.ProfileRef{}, false
		}
		ref.Namespace = ns
	}
	return Producer{Profile: ref.String(), Feature: feature, Cluster: cluster}, ref, true
}

// loadProducer is ProducerOf with the producing profile's origin read.
func loadProducer(ctx context.Context, r client.Reader, obj metav1.Object) *Producer {
	p, ref, ok := ProducerOf(obj)
	if !ok {
		return nil
	}
	var profile configv1beta1.ProfileObject = &configv1beta1.ClusterProfile{}
	if ref.Kind == configv1beta1.ProfileKind {
		profile = &configv1beta1.Profile{}
	}
	found, err := get(ctx, r, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, profile.(client.Object))
	switch {
	case err != nil:
		// The producer is still named; where it came from is not known.
	case !found:
		p.Missing = true
	default:
		if o, _, generated := OriginOf(profile.GetLabels(), profile.GetAnnotations()); generated {
			p.GeneratedBy = &o
		}
	}
	return &p
}

// Text is the input in one line: what it is and where it came from.
func (t TemplateInput) Text() string {
	s := t.Identifier + ": " + t.Ref()
	switch {
	case t.Problem != "":
		return s + ": " + t.Problem
	case t.DeployedBy == nil:
		return s + " (not deployed by a profile)"
	}
	p := t.DeployedBy
	s += " deployed by " + p.Profile
	if p.Missing {
		s += " (which no longer exists)"
	}
	if o := p.GeneratedBy; o != nil {
		s += ", generated by EventTrigger " + o.EventTrigger
		if o.EventSource != "" {
			s += " from EventSource " + o.EventSource
		}
		if o.SourceCluster != "" {
			s += " in cluster " + o.SourceCluster
		}
	}
	return s
}
