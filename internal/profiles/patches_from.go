package profiles

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// patchesFrom reads the ConfigMaps/Secrets of spec.patchesFrom: every data
// value (in key order) is one patch without target, rendered for the cluster
// (.Cluster) when it holds a template. Names and namespaces may be templates;
// an empty namespace is the profile's reference namespace (a ClusterProfile's:
// the cluster's). A missing object is bad input unless optional. Errors name
// the entry, the object and the key.
func (r *SummaryReconciler) patchesFrom(ctx context.Context, s *configv1beta1.ClusterSummary, cluster selection.Cluster, refNS string) ([]libv1beta1.Patch, error) {
	refs := s.Spec.ClusterProfileSpec.PatchesFrom
	if len(refs) == 0 {
		return nil, nil
	}
	clusterMap, err := templating.ClusterMap(cluster.Object)
	if err != nil {
		return nil, err
	}
	pc := templating.NewProfileContext(clusterMap, nil)
	render := func(what, v string) (string, error) { return renderIfTemplate(pc, what, v) }
	defaultNS := cluster.ID.Namespace
	if refNS != "" {
		defaultNS = refNS
	}
	var out []libv1beta1.Patch
	for i, ref := range refs {
		name, err := render(fmt.Sprintf("patchesFrom[%d].name", i), ref.Name)
		if err != nil {
			return nil, err
		}
		ns, err := render(fmt.Sprintf("patchesFrom[%d].namespace", i), ref.Namespace)
		if err != nil {
			return nil, err
		}
		if ns == "" {
			ns = defaultNS
		}
		data, err := r.referencedData(ctx, ref.Kind, types.NamespacedName{Namespace: ns, Name: name})
		if apierrors.IsNotFound(err) {
			if ref.Optional {
				continue
			}
			return nil, renderError{fmt.Errorf("patchesFrom[%d]: %s %s/%s not found", i, ref.Kind, ns, name)}
		}
		if err != nil {
			return nil, fmt.Errorf("reading patchesFrom[%d] %s %s/%s: %w", i, ref.Kind, ns, name, err)
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			text, err := render(fmt.Sprintf("patchesFrom[%d] %s %s/%s key %s", i, ref.Kind, ns, name, k), data[k])
			if err != nil {
				return nil, err
			}
			out = append(out, libv1beta1.Patch{Patch: text})
		}
	}
	return out, nil
}

// referencedData is the data of a ConfigMap or Secret of the management cluster.
func (r *SummaryReconciler) referencedData(ctx context.Context, kind string, key types.NamespacedName) (map[string]string, error) {
	if kind == "Secret" {
		sec := &corev1.Secret{}
		if err := r.Client.Get(ctx, key, sec); err != nil {
			return nil, err
		}
		data := make(map[string]string, len(sec.Data)+len(sec.StringData))
		for k, v := range sec.Data {
			data[k] = string(v)
		}
		return data, nil
	}
	cm := &corev1.ConfigMap{}
	if err := r.Client.Get(ctx, key, cm); err != nil {
		return nil, err
	}
	return cm.Data, nil
}

// addPatchesFrom reads the patches of spec.patchesFrom into run.extraPatches,
// where run.spec finds them: every feature applies (and hashes) them after
// spec.patches, so a change of a referenced object re-deploys. On bad input
// every wanted feature fails with the message and nothing is deployed; the
// features returned are the ones to hold back.
func (r *SummaryReconciler) addPatchesFrom(ctx context.Context, run *featureRun) (map[libv1beta1.FeatureID]bool, error) {
	s := run.s
	extra, err := r.patchesFrom(ctx, s, run.cluster, referenceNamespace(run.prof))
	if err != nil {
		held := map[libv1beta1.FeatureID]bool{}
		for _, feature := range wantedFeatures(&s.Spec.ClusterProfileSpec) {
			held[feature] = true
			_, _ = r.fail(s, featureSummary(s, feature), err)
		}
		if permanent(err) {
			return held, nil
		}
		return held, err
	}
	run.extraPatches = extra
	return nil, nil
}
