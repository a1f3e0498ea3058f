package deployer

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
)

// maxDiffPaths bounds how many changed paths an Update report lists.
const maxDiffPaths = 20

// dryRun reports what applying obj would do, using a server-side dry-run apply
// (which also surfaces validation errors) and comparing its result with live.
func (r *run) dryRun(ctx context.Context, obj, live *unstructured.Unstructured, preempted *Preemption) error {
	ref := RefOf(obj)
	result := obj.DeepCopy()
	if err := r.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(result), client.DryRunAll,
		client.ForceOwnership, client.FieldOwner(r.d.fieldManager())); err != nil {
		return fmt.Errorf("applying %s (dry run): %w", ref, err)
	}
	if live == nil {
		r.report(ref, configv1beta1.ReportActionCreate, "")
		return nil
	}
	paths := diffPaths(comparable(live), comparable(result))
	if len(paths) == 0 {
		r.report(ref, configv1beta1.ReportActionNoAction, "")
		return nil
	}
	msg := "changes " + strings.Join(paths, ", ")
	if preempted != nil {
		msg = fmt.Sprintf("takes it over from %s; %s", preempted.Loser, msg)
	}
	r.report(ref, configv1beta1.ReportActionUpdate, msg)
	return nil
}

// comparable is u without the metadata every write changes.
func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy().Object
	for _, f := range []string{"resourceVersion", "managedFields", "generation"} {
		unstructured.RemoveNestedField(c, "metadata", f)
	}
	return c
}

// diffPaths lists, sorted, the dotted paths where a and b differ (at most
// maxDiffPaths, then "…").
func diffPaths(a, b any) []string {
	var out []string
	var walk func(prefix string, a, b any)
	walk = func(prefix string, a, b any) {
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		if !aok || !bok {
			if !reflect.DeepEqual(a, b) {
				out = append(out, prefix)
			}
			return
		}
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walk(p, am[k], bm[k])
		}
	}
	walk("", a, b)
	sort.Strings(out)
	if len(out) > maxDiffPaths {
		out = append(out[:maxDiffPaths], "…")
	}
	return out
}
