package events

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/scripting"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// templateRenderer renders one Go template of the instantiate stage.
type templateRenderer interface {
	Render(name, text string) (string, error)
}

// eventData is the context of one instantiation: the Go-template context and
// the same data as the globals of Lua programs (ConfigMaps/Secrets annotated
// projectsveltos.io/lua).
type eventData struct {
	templateRenderer
	globals map[string]any
}

func (e eventData) luaGlobals() map[string]any { return e.globals }

// refMap is an ObjectReference as Lua programs see it.
func refMap(ref corev1.ObjectReference) map[string]any {
	return map[string]any{"apiVersion": ref.APIVersion, "kind": ref.Kind, "namespace": ref.Namespace, "name": ref.Name}
}

// oneEventData is the context of a oneForEvent trigger's event about one
// resource: cluster, matchingResource and (when collected) resource.
func oneEventData(cluster map[string]any, ref corev1.ObjectReference, resource map[string]any) eventData {
	globals := map[string]any{"cluster": cluster, "matchingResource": refMap(ref)}
	if resource != nil {
		globals["resource"] = resource
	}
	return eventData{templating.NewEventContext(cluster, ref, resource), globals}
}

// clusterEventsData is the context of all events of a source cluster:
// cluster, matchingResources and (when collected) resources.
func clusterEventsData(cluster map[string]any, refs []corev1.ObjectReference, resources []map[string]any, collected bool) eventData {
	refList := make([]any, 0, len(refs))
	for _, r := range refs {
		refList = append(refList, refMap(r))
	}
	globals := map[string]any{"cluster": cluster, "matchingResources": refList}
	if collected {
		list := make([]any, 0, len(resources))
		for _, r := range resources {
			list = append(list, r)
		}
		globals["resources"] = list
	}
	return eventData{templating.NewClusterEventsContext(cluster, refs, resources, collected), globals}
}

// cloudEventData is the context of one CloudEvent: cluster and cloudEvent.
func cloudEventData(cluster, cloudEvent map[string]any) eventData {
	return eventData{templating.NewCloudEventContext(cluster, cloudEvent), map[string]any{"cluster": cluster, "cloudEvent": cloudEvent}}
}

// clusterCloudEventsData is the context of all live CloudEvents of a source
// cluster: cluster and cloudEvents.
func clusterCloudEventsData(cluster map[string]any, cloudEvents []map[string]any) eventData {
	list := make([]any, 0, len(cloudEvents))
	for _, e := range cloudEvents {
		list = append(list, e)
	}
	return eventData{templating.NewClusterCloudEventsContext(cluster, cloudEvents), map[string]any{"cluster": cluster, "cloudEvents": list}}
}

// isLua reports whether a referenced ConfigMap/Secret holds Lua programs.
func isLua(annotations map[string]string) bool {
	_, ok := annotations[libv1beta1.LuaAnnotation]
	return ok
}

// runLuaTemplate runs one data value of a ConfigMap/Secret annotated
// projectsveltos.io/lua: a program defining evaluate(), which reads the
// event's globals and returns a table whose field resources is the
// instantiated content — a string, or a table (an object) or array of tables
// (objects) written as YAML documents. A missing resources field yields an
// empty value. name says which value it is, in errors.
func runLuaTemplate(name, program string, globals map[string]any) (string, error) {
	prog, err := scripting.CompileLuaWithHelpers(program)
	if err != nil {
		return "", fmt.Errorf("%s (Lua, annotation %s): %w", name, libv1beta1.LuaAnnotation, err)
	}
	out, err := prog.Evaluate(globals)
	if err != nil {
		return "", fmt.Errorf("%s (Lua, annotation %s): %w", name, libv1beta1.LuaAnnotation, err)
	}
	switch v := out["resources"].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case map[string]any:
		b, err := yaml.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("%s (Lua): encoding resources: %w", name, err)
		}
		return string(b), nil
	case []any:
		docs := make([]string, 0, len(v))
		for i, e := range v {
			b, err := yaml.Marshal(e)
			if err != nil {
				return "", fmt.Errorf("%s (Lua): encoding resources[%d]: %w", name, i+1, err)
			}
			docs = append(docs, string(b))
		}
		return strings.Join(docs, "---\n"), nil
	default:
		return "", fmt.Errorf("%s (Lua): evaluate() returned resources of type %T: want a string, an object or an array of objects", name, v)
	}
}

// compileAggregatedSelection compiles an EventSource's aggregatedSelection;
// nil when it has none.
func compileAggregatedSelection(source *libv1beta1.EventSource) (*scripting.Lua, error) {
	if strings.TrimSpace(source.Spec.AggregatedSelection) == "" {
		return nil, nil
	}
	prog, err := scripting.CompileLuaWithHelpers(source.Spec.AggregatedSelection)
	if err != nil {
		return nil, fmt.Errorf("EventSource %s: aggregatedSelection: %w", source.Name, err)
	}
	return prog, nil
}

// aggregate runs the aggregatedSelection over every selected resource (the
// global resources) and keeps those evaluate() returns in its resources
// field, matched back to the selected objects by apiVersion, kind, namespace
// and name (the selected objects, not the returned tables, are what
// counts; a returned table matching none is ignored). message is the
// program's optional message.
func aggregate(source *libv1beta1.EventSource, prog *scripting.Lua, matches []unstructured.Unstructured) (kept []unstructured.Unstructured, message string, err error) {
	all := make([]any, 0, len(matches))
	for i := range matches {
		all = append(all, resourceMap(&matches[i]))
	}
	out, err := prog.Evaluate(map[string]any{"resources": all})
	if err != nil {
		return nil, "", fmt.Errorf("EventSource %s: aggregatedSelection: %w", source.Name, err)
	}
	message, _ = out["message"].(string)
	var returned []any
	switch v := out["resources"].(type) {
	case nil:
	case []any:
		returned = v
	case map[string]any:
		if len(v) > 0 {
			return nil, "", fmt.Errorf("EventSource %s: aggregatedSelection: evaluate() returned resources as an object: want an array of the selected resources", source.Name)
		}
	default:
		return nil, "", fmt.Errorf("EventSource %s: aggregatedSelection: evaluate() returned resources of type %T: want an array of the selected resources", source.Name, v)
	}
	wanted := map[string]bool{}
	for _, e := range returned {
		obj, ok := e.(map[string]any)
		if !ok {
			continue
		}
		u := unstructured.Unstructured{Object: obj}
		wanted[identity(u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName())] = true
	}
	for i := range matches {
		m := &matches[i]
		if wanted[identity(m.GetAPIVersion(), m.GetKind(), m.GetNamespace(), m.GetName())] {
			kept = append(kept, *m)
		}
	}
	return kept, message, nil
}

func identity(apiVersion, kind, namespace, name string) string {
	return strings.Join([]string{apiVersion, kind, namespace, name}, "/")
}
