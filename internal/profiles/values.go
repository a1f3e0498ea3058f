package profiles

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// Values of helmCharts and kustomizationRefs: both read their valuesFrom objects
// and render every data value as a template over the cluster here.

// valuesSource is one valuesFrom object as read.
type valuesSource struct {
	Kind      string            `json:"kind"`
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Data      map[string]string `json:"data"`
	// rendered are the data values rendered, in key order.
	rendered []renderedValue
}

// renderedValue is one data value of a valuesFrom object, rendered.
type renderedValue struct {
	// template is the template's name: where the value came from, in errors.
	template string
	key      string
	text     string
}

// renderValuesFrom reads the valuesFrom objects of one helmCharts or
// kustomizationRefs entry in order (a missing optional one is skipped) and
// renders each of their data values, keys in name order, as a profile-stage
// template. at names the j-th entry in errors; defaultNS is where entries
// without a namespace resolve.
func (r *SummaryReconciler) renderValuesFrom(ctx context.Context, pc templating.ProfileContext, vfs []libv1beta1.ValueFrom, defaultNS string, at func(j int) string) ([]valuesSource, error) {
	var out []valuesSource
	for j, vf := range vfs {
		where := at(j)
		src, found, err := r.readValuesFrom(ctx, pc, where, vf, defaultNS)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(src.Data)) {
			name := fmt.Sprintf("%s (%s %s/%s, key %s)", where, src.Kind, src.Namespace, src.Name, k)
			text, err := pc.Render(name, src.Data[k])
			if err != nil {
				return nil, renderError{err}
			}
			src.rendered = append(src.rendered, renderedValue{template: name, key: k, text: text})
		}
		out = append(out, src)
	}
	return out, nil
}

// readValuesFrom reads one valuesFrom object (its name and namespace are
// templates). found is false for a missing optional one.
func (r *SummaryReconciler) readValuesFrom(ctx context.Context, pc templating.ProfileContext, where string, vf libv1beta1.ValueFrom, defaultNS string) (valuesSource, bool, error) {
	renderName := func(field, v string) (string, error) { return renderIfTemplate(pc, where+"."+field, v) }
	name, err := renderName("name", vf.Name)
	if err != nil {
		return valuesSource{}, false, err
	}
	ns, err := renderName("namespace", vf.Namespace)
	if err != nil {
		return valuesSource{}, false, err
	}
	if ns == "" {
		ns = defaultNS
	}
	src := valuesSource{Kind: vf.Kind, Namespace: ns, Name: name, Data: map[string]string{}}
	key := types.NamespacedName{Namespace: ns, Name: name}
	obj, found, err := r.getSource(ctx, vf.Kind, key, where, vf.Optional)
	if err != nil || !found {
		return src, false, err
	}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		maps.Copy(src.Data, o.Data)
	case *corev1.Secret:
		for k, v := range o.Data {
			src.Data[k] = string(v)
		}
	}
	return src, true, nil
}

// renderValues renders one values document and parses it as a YAML map.
func renderValues(pc templating.ProfileContext, name, text string) (map[string]any, error) {
	rendered, err := pc.Render(name, text)
	if err != nil {
		return nil, renderError{err}
	}
	return parseValues(name, rendered)
}

// parseValues parses a rendered values document as a YAML map (empty: no values).
func parseValues(name, text string) (map[string]any, error) {
	values := map[string]any{}
	if err := yaml.Unmarshal([]byte(text), &values); err != nil {
		return nil, renderError{fmt.Errorf("%s: parsing YAML: %w", name, err)}
	}
	if values == nil {
		values = map[string]any{}
	}
	return values, nil
}

// mergeValues merges src into dst (src wins; maps are merged deeply) and returns dst.
func mergeValues(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}
