package explain

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// Load reads from the management cluster, through fleet (its Reader and the
// Cluster API version it reads), everything Explain needs to explain profile p
// for cluster id. A missing profile is an error (apierrors.IsNotFound holds);
// any other missing object is recorded as missing, for Explain to say so.
func Load(ctx context.Context, fleet clusters.Fleet, p configv1beta1.ProfileRef, id libv1beta1.ClusterID) (*Input, error) {
	r := fleet.Reader
	id = id.Normal()
	in := &Input{ClusterID: id, NoClusterAPI: fleet.CAPI == clusters.CAPINone}
	var profile configv1beta1.ProfileObject = &configv1beta1.ClusterProfile{}
	if p.Kind == configv1beta1.ProfileKind {
		profile = &configv1beta1.Profile{}
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: p.Name}, profile.(client.Object)); err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", p.Kind, qualified(p.Namespace, p.Name), err)
	}
	in.Profile = profile
	spec := profile.GetSpec()

	cluster, err := fleet.Get(ctx, id)
	switch {
	case err == nil:
		in.Cluster = &cluster
		in.Inputs = LoadInputs(ctx, r, profile, in.Cluster)
	case !apierrors.IsNotFound(err):
		return nil, err
	}

	in.Sets = map[string]*SetState{}
	for _, name := range spec.SetRefs {
		var set client.Object = &libv1beta1.ClusterSet{}
		if p.Kind == configv1beta1.ProfileKind {
			set = &libv1beta1.Set{}
		}
		found, err := get(ctx, r, types.NamespacedName{Namespace: p.Namespace, Name: name}, set)
		if err != nil {
			return nil, err
		}
		if !found {
			in.Sets[name] = nil
			continue
		}
		switch s := set.(type) {
		case *libv1beta1.ClusterSet:
			in.Sets[name] = &SetState{Spec: s.Spec, Status: s.Status}
		case *libv1beta1.Set:
			in.Sets[name] = &SetState{Spec: s.Spec, Status: s.Status}
		}
	}

	summary := &configv1beta1.ClusterSummary{}
	name := configv1beta1.ClusterSummaryNameFor(p.Kind, p.Name, id)
	if found, err := get(ctx, r, types.NamespacedName{Namespace: id.Namespace, Name: name}, summary); err != nil {
		return nil, err
	} else if found {
		in.Summary = summary
	}

	// The summary controller looks for the dependencies' summaries by these
	// names (profiles/summary_controller.go, dependencies).
	in.Dependencies = map[string]*configv1beta1.ClusterSummary{}
	for _, dep := range spec.DependsOn {
		d := &configv1beta1.ClusterSummary{}
		key := types.NamespacedName{Namespace: id.Namespace, Name: configv1beta1.ClusterSummaryNameFor(p.Kind, dep, id)}
		found, err := get(ctx, r, key, d)
		if err != nil {
			return nil, err
		}
		in.Dependencies[dep] = nil
		if found {
			in.Dependencies[dep] = d
		}
	}

	in.Holders = map[string]configv1beta1.ProfileObject{}
	if in.Summary != nil {
		for _, c := range Conflicts(in.Summary) {
			if c.Holder == "" {
				continue
			}
			var holder configv1beta1.ProfileObject = &configv1beta1.ClusterProfile{}
			key := types.NamespacedName{Name: c.HolderName}
			if c.HolderKind == configv1beta1.ProfileKind {
				// A Profile only deploys to clusters of its namespace.
				holder, key.Namespace = &configv1beta1.Profile{}, id.Namespace
			}
			found, err := get(ctx, r, key, holder.(client.Object))
			if err != nil {
				return nil, err
			}
			in.Holders[c.Holder] = nil
			if found {
				in.Holders[c.Holder] = holder
			}
		}
	}

	if o, source, ok := OriginOf(profile.GetLabels(), profile.GetAnnotations()); ok {
		oi := &OriginInput{}
		trigger := &libv1beta1.EventTrigger{}
		if found, err := get(ctx, r, types.NamespacedName{Name: o.EventTrigger}, trigger); err != nil {
			return nil, err
		} else if found {
			oi.Trigger = trigger
		}
		if o.EventSource != "" {
			es := &libv1beta1.EventSource{}
			if found, err := get(ctx, r, types.NamespacedName{Name: o.EventSource}, es); err != nil {
				return nil, err
			} else if found {
				oi.Source = es
			}
		}
		if source.Name != "" {
			switch c, err := fleet.Get(ctx, source); {
			case err == nil:
				oi.SourceCluster = &c
			case !apierrors.IsNotFound(err):
				return nil, err
			}
			if o.EventSource != "" {
				report := &libv1beta1.EventReport{}
				key := types.NamespacedName{Namespace: source.Namespace, Name: libv1beta1.EventReportName(o.EventSource, source.Name)}
				if found, err := get(ctx, r, key, report); err != nil {
					return nil, err
				} else if found {
					oi.Report = report
				}
			}
		}
		in.Origin = oi
	}
	return in, nil
}

// get reads one object; found is false when it does not exist.
func get(ctx context.Context, r client.Reader, key types.NamespacedName, obj client.Object) (found bool, err error) {
	if err := r.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %s: %w", key, err)
	}
	return true, nil
}
