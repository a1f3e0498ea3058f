// Package health evaluates the checks of profiles (validateHealths,
// preDeployChecks, preDeleteChecks, postDeleteChecks): Lua scripts and CEL
// rules over the objects of one kind in a managed cluster, scripts over the
// answers of a Prometheus endpoint (metrics.go), and the outcome of a Job
// (job.go).
// It is pure: callers list the objects (from the shared watches of the cluster)
// and record the result.
package health

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/scripting"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// Field is the spec field a list of checks comes from; it names the checks in
// messages and says how they read.
type Field string

// The check lists of a profile's spec.
const (
	ValidateHealths  Field = "validateHealths"
	PreDeployChecks  Field = "preDeployChecks"
	PreDeleteChecks  Field = "preDeleteChecks"
	PostDeleteChecks Field = "postDeleteChecks"
)

// requiresObjects: a check of the field fails when it selects no object, and
// one with neither a script nor rules asks only that some object exists.
func (f Field) requiresObjects() bool { return f == PreDeployChecks }

// Check is one compiled entry of a check list.
type Check struct {
	Name    string
	Feature libv1beta1.FeatureID
	// Field is the check list the check comes from.
	Field     Field
	GVK       schema.GroupVersionKind
	Namespace string
	// Selector is the labelFilters as a label selector ("" when none).
	Selector labels.Selector

	// Metrics is the metricSource and metricQueries of the check; nil without.
	Metrics *MetricSpec
	// Job is the jobCheck of the check; nil without. A job check has no
	// script, rules or objects: the Job's outcome is its result (JobResult).
	Job *libv1beta1.JobCheck

	where           string
	requiresObjects bool
	lua             *scripting.Lua
	cel             []namedCEL
}

// MetricSpec is where a check's metrics come from.
type MetricSpec struct {
	Source  libv1beta1.MetricSource
	Queries []libv1beta1.MetricQuery
}

// Where names the check in messages: "<field>[<index>] <name>".
func (c *Check) Where() string { return c.where }

// ReadsObjects reports whether the check evaluates objects of its kind (false
// for a job check and for a metric check without kind).
func (c *Check) ReadsObjects() bool { return c.Job == nil && c.GVK.Kind != "" }

type namedCEL struct {
	name string
	rule *scripting.CEL
}

// Compile checks and compiles the validateHealths entry at index i.
func Compile(i int, vh libv1beta1.ValidateHealth) (*Check, error) {
	return CompileIn(ValidateHealths, i, vh)
}

// CompileIn checks and compiles the entry at index i of the check list field:
// a script that does not parse, a CEL rule that does not compile, a bad label
// filter or an entry with neither a script nor rules (outside preDeployChecks)
// is an error naming the entry and the field.
func CompileIn(field Field, i int, vh libv1beta1.ValidateHealth) (*Check, error) {
	where := fmt.Sprintf("%s[%d] %s", field, i, vh.Name)
	c := &Check{
		Name: vh.Name, Feature: vh.FeatureID, Field: field, Namespace: vh.Namespace, where: where,
		GVK:             schema.GroupVersionKind{Group: vh.Group, Version: vh.Version, Kind: vh.Kind},
		requiresObjects: field.requiresObjects(),
	}
	sel, err := selection.LabelFilters(vh.LabelFilters)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	c.Selector = sel
	if vh.JobCheck != nil {
		if vh.Script != "" || len(vh.EvaluateCEL) > 0 || vh.MetricSource != nil {
			return nil, fmt.Errorf("%s: jobCheck excludes script, evaluateCEL and metricSource", where)
		}
		job := *vh.JobCheck
		c.Job = &job
		return c, nil
	}
	if vh.MetricSource != nil {
		if len(vh.MetricQueries) == 0 {
			return nil, fmt.Errorf("%s: metricSource without metricQueries", where)
		}
		if vh.Script == "" {
			return nil, fmt.Errorf("%s: metricSource needs a script (the metrics reach the Lua script only)", where)
		}
		if vh.Kind == "" && len(vh.EvaluateCEL) > 0 {
			return nil, fmt.Errorf("%s: evaluateCEL needs kind (the rules read objects, not metrics)", where)
		}
		c.Metrics = &MetricSpec{Source: *vh.MetricSource, Queries: vh.MetricQueries}
	}
	if c.GVK.Kind == "" && c.Metrics == nil {
		return nil, fmt.Errorf("%s: kind is required unless metricSource or jobCheck is set", where)
	}
	if vh.Script == "" && len(vh.EvaluateCEL) == 0 && !c.requiresObjects {
		return nil, fmt.Errorf("%s: neither script nor evaluateCEL is set", where)
	}
	if vh.Script != "" {
		if c.lua, err = scripting.CompileLua(vh.Script); err != nil {
			return nil, fmt.Errorf("%s: script: %w", where, err)
		}
	}
	for j, r := range vh.EvaluateCEL {
		prg, err := scripting.CompileCEL(r.Rule, "resource")
		if err != nil {
			return nil, fmt.Errorf("%s: evaluateCEL[%d] %s: %w", where, j, r.Name, err)
		}
		c.cel = append(c.cel, namedCEL{name: r.Name, rule: prg})
	}
	return c, nil
}

// CompileAll compiles the validateHealths gating one feature, in order.
func CompileAll(checks []libv1beta1.ValidateHealth, feature libv1beta1.FeatureID) ([]*Check, error) {
	return CompileFor(ValidateHealths, checks, feature)
}

// CompileFor compiles the checks of the list field gating one feature (every
// check when feature is empty), in order.
func CompileFor(field Field, checks []libv1beta1.ValidateHealth, feature libv1beta1.FeatureID) ([]*Check, error) {
	var out []*Check
	for i, vh := range checks {
		if feature != "" && vh.FeatureID != feature {
			continue
		}
		c, err := CompileIn(field, i, vh)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Result is the outcome of a check.
type Result struct {
	Healthy bool
	// Message says which check and which object is not healthy, and why.
	Message string
}

// Evaluate runs the check over the objects (those of its kind in the cluster;
// the check keeps those of its namespace matching its label filters). Every
// object must be healthy: the first that is not (in namespace/name order)
// decides the message. No object to check passes, as in Sveltos, except in
// preDeployChecks, where it fails naming what is missing. A script that
// fails at run time, or returns no healthy field, makes the check unhealthy
// with the error.
func (c *Check) Evaluate(objs []unstructured.Unstructured) Result {
	return c.EvaluateWith(objs, nil)
}

// EvaluateWith is Evaluate with the values of the check's metricQueries (by
// name), which the script reads as the global table metrics. A metric check
// without kind runs its script once, with no obj.
func (c *Check) EvaluateWith(objs []unstructured.Unstructured, metrics map[string]any) Result {
	if c.GVK.Kind == "" {
		healthy, why := c.evaluateOne(nil, metrics)
		if healthy {
			return Result{Healthy: true}
		}
		msg := c.where + ": not healthy"
		if why != "" {
			msg += ": " + why
		}
		return Result{Message: msg}
	}
	var checked []*unstructured.Unstructured
	for i := range objs {
		o := &objs[i]
		if c.Namespace != "" && o.GetNamespace() != c.Namespace {
			continue
		}
		if c.Selector != nil && !c.Selector.Matches(labels.Set(o.GetLabels())) {
			continue
		}
		checked = append(checked, o)
	}
	slices.SortFunc(checked, func(a, b *unstructured.Unstructured) int {
		return strings.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	if len(checked) == 0 && c.requiresObjects {
		what := c.GVK.Kind
		if c.Namespace != "" {
			what += " in namespace " + c.Namespace
		}
		if c.Selector != nil && !c.Selector.Empty() {
			what += " with labels " + c.Selector.String()
		}
		return Result{Message: fmt.Sprintf("%s: no %s in the cluster", c.where, what)}
	}
	for _, o := range checked {
		healthy, why := c.evaluateOne(o.Object, metrics)
		if !healthy {
			name := o.GetName()
			if o.GetNamespace() != "" {
				name = o.GetNamespace() + "/" + name
			}
			msg := fmt.Sprintf("%s: %s %s is not healthy", c.where, c.GVK.Kind, name)
			if why != "" {
				msg += ": " + why
			}
			return Result{Message: msg}
		}
	}
	return Result{Healthy: true}
}

// evaluateOne runs the script (healthy and message from the table
// evaluate() returns) and the CEL rules (healthy when any is true); both must
// pass when both are set.
func (c *Check) evaluateOne(obj, metrics map[string]any) (bool, string) {
	if c.lua == nil && len(c.cel) == 0 {
		return true, "" // an existence check (preDeployChecks)
	}
	if c.lua != nil {
		globals := map[string]any{}
		if obj != nil {
			globals["obj"] = obj
		}
		if metrics != nil {
			globals["metrics"] = metrics
		}
		out, err := c.lua.Evaluate(globals)
		if err != nil {
			return false, "script: " + err.Error()
		}
		healthy, ok := out["healthy"].(bool)
		if !ok {
			return false, "script: evaluate() returned no boolean healthy field"
		}
		if !healthy {
			msg, _ := out["message"].(string)
			return false, msg
		}
	}
	if len(c.cel) == 0 {
		return true, ""
	}
	var errs []string
	for _, r := range c.cel {
		ok, err := r.rule.Eval(obj)
		if err != nil {
			errs = append(errs, fmt.Sprintf("evaluateCEL %s: %v", r.name, err))
			continue
		}
		if ok {
			return true, ""
		}
	}
	if len(errs) > 0 {
		return false, strings.Join(errs, "; ")
	}
	return false, "no evaluateCEL rule holds"
}
