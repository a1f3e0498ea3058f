package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// Every promotion field either works or is refused by the API server with a
// message naming it.
func TestEnvironmentPromotionValidation(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	environment := func(name string, promotion map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": v1alpha1.GroupVersion.String(), "kind": "Environment",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec": map[string]any{
				"controlPlane": map[string]any{"repo": "https://git.example/cp", "branch": name, "path": "."},
				"promotion":    promotion,
			},
		}}
		return u
	}
	tests := []struct {
		name      string
		promotion map[string]any
		wantErr   string
	}{
		{"full", map[string]any{"next": "stage", "mode": "Manual", "bakeTime": "10m", "pullRequest": true,
			"windows": []any{map[string]any{"days": []any{"Mon", "Fri"}, "start": "22:00", "end": "02:00"}}}, ""},
		{"mode defaults to Automatic", map[string]any{"next": "stage"}, ""},
		{"unknown mode", map[string]any{"next": "stage", "mode": "Eventually"}, "spec.promotion.mode"},
		{"no next", map[string]any{"mode": "Manual"}, "spec.promotion.next"},
		{"next is not a name", map[string]any{"next": "Stage!"}, "spec.promotion.next"},
		{"to itself", map[string]any{"next": "{{self}}"}, "an environment cannot promote to itself"},
		{"negative bake time", map[string]any{"next": "stage", "bakeTime": "-5m"}, "bakeTime must not be negative"},
		{"bake time that is no duration", map[string]any{"next": "stage", "bakeTime": "soon"}, "bakeTime"},
		{"bad clock", map[string]any{"next": "stage", "windows": []any{map[string]any{"start": "9:00", "end": "17:00"}}}, "start"},
		{"unknown day", map[string]any{"next": "stage", "windows": []any{map[string]any{"days": []any{"Someday"}, "start": "09:00", "end": "17:00"}}}, "days"},
		{"empty window", map[string]any{"next": "stage", "windows": []any{map[string]any{"start": "09:00", "end": "09:00"}}}, "a window's start and end differ"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "env-" + string(rune('a'+i))
			if tc.promotion["next"] == "{{self}}" {
				tc.promotion["next"] = name
			}
			err := mgmt.Create(ctx, environment(name, tc.promotion))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
	// What was accepted decodes into the Go type (the controller reads it so).
	got := &v1alpha1.Environment{}
	if err := mgmt.Get(ctx, keyOf(ns, "env-a"), got); err != nil {
		t.Fatal(err)
	}
	p := got.Spec.Promotion
	if p.Mode != v1alpha1.PromotionManual || p.BakeTime.Duration != 10*time.Minute || !p.PullRequest || len(p.Windows) != 1 || p.Windows[0].Days[1] != "Fri" {
		t.Fatalf("promotion %+v", p)
	}
	if err := mgmt.Get(ctx, keyOf(ns, "env-b"), got); err != nil || got.Spec.Promotion.Mode != v1alpha1.PromotionAutomatic {
		t.Fatalf("mode %q (%v), want the default Automatic", got.Spec.Promotion.Mode, err)
	}
}

func keyOf(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}
