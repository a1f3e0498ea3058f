package clusters

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/scripting"
)

// ResourceMatcher is a compiled ResourceSelector: the kind and namespace it
// selects from, and whether an object of them is selected.
type ResourceMatcher interface {
	GVK() schema.GroupVersionKind
	Namespace() string
	Matches(obj *unstructured.Unstructured) (bool, error)
}

// CompileResourceSelector compiles a ResourceSelector. The manager passes the
// events package's (events.CompileSelector), the one matching of resource
// selectors, which this package cannot import.
type CompileResourceSelector func(libv1beta1.ResourceSelector) (ResourceMatcher, error)

// checkFailure is why a readiness or liveness check did not pass: the check
// said so (Bad is false), or it could not be evaluated (Bad: a selector or
// condition that does not compile, a script that fails).
type checkFailure struct {
	Message string
	Bad     bool
}

// evaluateChecks runs the checks of a field (readinessChecks or
// livenessChecks) against the cluster, in order, and returns the first that
// does not pass, nil when all pass. Errors reaching the cluster are returned
// as errors.
func evaluateChecks(ctx context.Context, conn *Connection, compile CompileResourceSelector, field string, checks []libv1beta1.ClusterCheck) (*checkFailure, error) {
	for i, check := range checks {
		where := fmt.Sprintf("spec.%s[%d] (%s)", field, i, check.Name)
		pass, message, bad, err := evaluateCheck(ctx, conn, compile, check)
		if err != nil {
			if bad {
				return &checkFailure{Message: fmt.Sprintf("%s: %v", where, err), Bad: true}, nil
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if !pass {
			if message == "" {
				message = "did not pass"
			}
			return &checkFailure{Message: fmt.Sprintf("%s: %s", where, message)}, nil
		}
	}
	return nil, nil
}

// evaluateCheck lists what the check's selectors select and hands it to its
// condition; bad says that an error comes from the check itself.
func evaluateCheck(ctx context.Context, conn *Connection, compile CompileResourceSelector, check libv1beta1.ClusterCheck) (pass bool, message string, bad bool, err error) {
	condition, err := scripting.CompileLua(check.Condition)
	if err != nil {
		return false, "", true, fmt.Errorf("condition: %w", err)
	}
	if compile == nil && len(check.ResourceSelectors) > 0 {
		return false, "", true, fmt.Errorf("resourceSelectors cannot be evaluated: no selector compiler configured")
	}
	resources := []any{}
	for j, rs := range check.ResourceSelectors {
		m, err := compile(rs)
		if err != nil {
			return false, "", true, fmt.Errorf("resourceSelectors[%d]: %w", j, err)
		}
		objs, err := listSelected(ctx, conn, m)
		if err != nil {
			return false, "", meta.IsNoMatchError(err), fmt.Errorf("resourceSelectors[%d]: %w", j, err)
		}
		for _, o := range objs {
			ok, err := m.Matches(o)
			if err != nil {
				return false, "", true, fmt.Errorf("resourceSelectors[%d]: %w", j, err)
			}
			if ok {
				resources = append(resources, o.Object)
			}
		}
	}
	out, err := condition.Evaluate(map[string]any{"resources": resources})
	if err != nil {
		return false, "", true, fmt.Errorf("condition: %w", err)
	}
	verdict, ok := out["pass"]
	if !ok {
		verdict, ok = out["result"]
	}
	passed, isBool := verdict.(bool)
	if !ok || !isBool {
		return false, "", true, fmt.Errorf("condition: evaluate() must return a table with a boolean pass, got %v", out)
	}
	msg, _ := out["message"].(string)
	return passed, strings.TrimSpace(msg), false, nil
}

// listSelected lists the objects of the matcher's kind (in its namespace, when
// it names one and the kind is namespaced) from the cluster.
func listSelected(ctx context.Context, conn *Connection, m ResourceMatcher) ([]*unstructured.Unstructured, error) {
	mapper, err := conn.RESTMapper()
	if err != nil {
		return nil, err
	}
	gvk := m.GVK()
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s is not served by the cluster: %w", gvk, err)
	}
	dyn, err := conn.Dynamic()
	if err != nil {
		return nil, err
	}
	var list *unstructured.UnstructuredList
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace && m.Namespace() != "" {
		list, err = dyn.Resource(mapping.Resource).Namespace(m.Namespace()).List(ctx, metav1.ListOptions{})
	} else {
		list, err = dyn.Resource(mapping.Resource).List(ctx, metav1.ListOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", mapping.Resource.Resource, err)
	}
	out := make([]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}
