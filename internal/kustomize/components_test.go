package kustomize_test

import (
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/kustomize"
)

// Components (relative to the kustomization's path) are applied to its output,
// with targetNamespace; a missing, escaping or non-Component folder is refused
// naming it.
func TestComponents(t *testing.T) {
	files := map[string][]byte{
		"base/kustomization.yaml": []byte("resources:\n- settings.yaml\n"),
		"base/settings.yaml":      []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  tier: base\n"),
		"components/monitoring/kustomization.yaml": []byte("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" +
			"patches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: settings\n    data:\n      scrape: \"true\"\n"),
	}
	objs, err := kustomize.Build(files, kustomize.Options{Path: "base", TargetNamespace: "obs", Components: []string{"../components/monitoring"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	data := objs[0].Object["data"].(map[string]any)
	if data["scrape"] != "true" || data["tier"] != "base" || objs[0].GetNamespace() != "obs" {
		t.Errorf("object %v", objs[0].Object)
	}
	for comp, want := range map[string]string{
		"../components/logging": `no folder "components/logging"`,
		"../../outside":         "leaves the source",
		"../base":               `has kind ""`,
	} {
		_, err := kustomize.Build(files, kustomize.Options{Path: "base", Components: []string{comp}})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), comp) {
			t.Errorf("component %s: error %v, want %q", comp, err, want)
		}
	}
}
