package deployer_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

const deploymentYAML = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.27"}
      - {name: sidecar, image: "envoy:1"}
`

func containers(t *testing.T, u *unstructured.Unstructured) map[string]string {
	t.Helper()
	list, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range list {
		m := c.(map[string]any)
		out[m["name"].(string)] = m["image"].(string)
	}
	return out
}

// A strategic-merge patch merges lists by their merge key (containers by name).
func TestStrategicMergePatchMergesByKey(t *testing.T) {
	d := obj(t, deploymentYAML, "web", "apps")
	got, err := deployer.ApplyPatches(d, []libv1beta1.Patch{{
		Target: &libv1beta1.PatchSelector{Kind: "Deployment", Name: "w.*"},
		Patch: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: not-used}
spec:
  template:
    spec:
      containers:
      - {name: web, image: "nginx:1.28"}
`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"web": "nginx:1.28", "sidecar": "envoy:1"}; !reflect.DeepEqual(containers(t, got), want) {
		t.Errorf("containers = %v, want %v", containers(t, got), want)
	}
	if got.GetName() != "web" {
		t.Errorf("patch renamed the object to %q", got.GetName())
	}
	if containers(t, d)["web"] != "nginx:1.27" {
		t.Error("the input object was modified")
	}
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); r != 2 {
		t.Errorf("replicas = %d (numbers must stay int64)", r)
	}
}

// Without a target a strategic-merge patch applies to the object it names only.
func TestStrategicMergePatchWithoutTargetMatchesByName(t *testing.T) {
	patch := []libv1beta1.Patch{{Patch: `{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"patched": "yes"}}}`}}
	for name, want := range map[string]string{"web": "yes", "api": ""} {
		got, err := deployer.ApplyPatches(obj(t, deploymentYAML, name, "apps"), patch)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetLabels()["patched"] != want {
			t.Errorf("%s: label patched = %q, want %q", name, got.GetLabels()["patched"], want)
		}
	}
	if _, err := deployer.ApplyPatches(obj(t, deploymentYAML, "web", "apps"), []libv1beta1.Patch{{Patch: `{"spec": {"replicas": 3}}`}}); err == nil {
		t.Error("a strategic-merge patch with neither target nor kind/name was accepted")
	}
}

// A kind client-go does not know is patched with a JSON merge patch.
func TestStrategicMergePatchOnCustomKindIsAMergePatch(t *testing.T) {
	cr := obj(t, `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: ns}, spec: {size: 1, color: red}}`)
	got, err := deployer.ApplyPatches(cr, []libv1beta1.Patch{{
		Target: &libv1beta1.PatchSelector{Group: "example.com", Kind: "Widget"},
		Patch:  "spec:\n  size: 3\n  color: null\n",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if spec, _, _ := unstructured.NestedMap(got.Object, "spec"); !reflect.DeepEqual(spec, map[string]any{"size": int64(3)}) {
		t.Errorf("spec = %v", spec)
	}
}

// A JSON 6902 patch (YAML or JSON) applies its operations to the selected objects;
// it needs a target, and a failing operation names the object.
func TestJSON6902Patch(t *testing.T) {
	d := obj(t, deploymentYAML, "web", "apps")
	got, err := deployer.ApplyPatches(d, []libv1beta1.Patch{{
		Target: &libv1beta1.PatchSelector{Group: "apps", Version: "v1", Kind: "Deployment", LabelSelector: "app=web"},
		Patch: `
- op: replace
  path: /spec/replicas
  value: 5
- op: add
  path: /metadata/annotations
  value: {owner: platform}
`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); r != 5 || got.GetAnnotations()["owner"] != "platform" {
		t.Errorf("replicas %d annotations %v", r, got.GetAnnotations())
	}

	if _, err := deployer.ApplyPatches(d, []libv1beta1.Patch{{Patch: `[{"op": "remove", "path": "/spec/replicas"}]`}}); err == nil || !strings.Contains(err.Error(), "target") {
		t.Errorf("untargeted JSON 6902 patch: err = %v", err)
	}
	_, err = deployer.ApplyPatches(d, []libv1beta1.Patch{{
		Target: &libv1beta1.PatchSelector{Kind: "Deployment"},
		Patch:  `[{"op": "replace", "path": "/spec/missing/field", "value": 1}]`,
	}})
	if err == nil || !strings.Contains(err.Error(), "Deployment apps/web") {
		t.Errorf("failing operation: err = %v", err)
	}
}

// Selectors: exact group/version/kind, whole-value regular expressions for name and
// namespace, label and annotation selectors.
func TestSelects(t *testing.T) {
	d := obj(t, deploymentYAML, "web-frontend", "prod-eu")
	d.SetAnnotations(map[string]string{"tier": "front"})
	cases := []struct {
		sel  libv1beta1.PatchSelector
		want bool
	}{
		{libv1beta1.PatchSelector{}, true},
		{libv1beta1.PatchSelector{Group: "apps", Version: "v1", Kind: "Deployment"}, true},
		{libv1beta1.PatchSelector{Group: ""}, true},
		{libv1beta1.PatchSelector{Kind: "StatefulSet"}, false},
		{libv1beta1.PatchSelector{Version: "v2"}, false},
		{libv1beta1.PatchSelector{Name: "web-.*"}, true},
		{libv1beta1.PatchSelector{Name: "web"}, false}, // whole value, not a substring
		{libv1beta1.PatchSelector{Namespace: "prod-(eu|us)"}, true},
		{libv1beta1.PatchSelector{Namespace: "dev"}, false},
		{libv1beta1.PatchSelector{LabelSelector: "app in (web, api)"}, true},
		{libv1beta1.PatchSelector{LabelSelector: "app!=web"}, false},
		{libv1beta1.PatchSelector{AnnotationSelector: "tier=front"}, true},
		{libv1beta1.PatchSelector{AnnotationSelector: "tier=back"}, false},
	}
	for _, tc := range cases {
		got, err := deployer.Selects(&tc.sel, d)
		if err != nil || got != tc.want {
			t.Errorf("%+v: %v %v, want %v", tc.sel, got, err, tc.want)
		}
	}
	if _, err := deployer.Selects(&libv1beta1.PatchSelector{Name: "("}, d); err == nil {
		t.Error("invalid regular expression accepted")
	}
}

// Drift exclusions remove JSON-pointer paths (escaped, into lists) from the selected
// objects; missing paths are ignored.
func TestApplyDriftExclusions(t *testing.T) {
	d := obj(t, deploymentYAML, "web", "apps")
	d.SetAnnotations(map[string]string{"example.com/a~b": "x", "keep": "y"})
	got, err := deployer.ApplyDriftExclusions(d, []libv1beta1.DriftExclusion{
		{Paths: []string{"/spec/replicas", "/spec/template/spec/containers/1", "/metadata/annotations/example.com~1a~0b", "/no/such/path", "/spec/template/spec/containers/7/image"}},
		{Paths: []string{"/metadata/labels"}, Target: &libv1beta1.PatchSelector{Kind: "Service"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, found, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); found {
		t.Error("replicas still there")
	}
	if want := map[string]string{"web": "nginx:1.27"}; !reflect.DeepEqual(containers(t, got), want) {
		t.Errorf("containers = %v", containers(t, got))
	}
	if !reflect.DeepEqual(got.GetAnnotations(), map[string]string{"keep": "y"}) {
		t.Errorf("annotations = %v", got.GetAnnotations())
	}
	if got.GetLabels()["app"] != "web" {
		t.Error("an exclusion for another kind was applied")
	}
	if len(containers(t, d)) != 2 {
		t.Error("the input object was modified")
	}
	if _, err := deployer.ApplyDriftExclusions(d, []libv1beta1.DriftExclusion{{Paths: []string{"spec"}}}); err == nil {
		t.Error("a path without a leading / was accepted")
	}
}

// Patches are applied before the object is deployed (and count in its hash); a
// drift-excluded field is left to whoever else manages it.
func TestPatchesAndDriftExclusionsWhenDeploying(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	req := request(profile("cp", 0), fromSource("src", obj(t, deploymentYAML, "web", ns))...)
	req.Patches = []libv1beta1.Patch{{
		Target: &libv1beta1.PatchSelector{Kind: "Deployment"},
		Patch:  `{"metadata": {"labels": {"patched": "yes"}}}`,
	}}
	req.DriftExclusions = []libv1beta1.DriftExclusion{{Paths: []string{"/spec/replicas"}}}
	mustApply(t, c, req)

	live := get(t, c, obj(t, deploymentYAML, "web", ns))
	if live.GetLabels()["patched"] != "yes" {
		t.Errorf("labels %v: patch not applied", live.GetLabels())
	}
	// Someone else scales the Deployment; re-applying (even forced) leaves replicas alone.
	if err := unstructured.SetNestedField(live.Object, int64(7), "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	req.Objects = fromSource("src", obj(t, deploymentYAML, "web", ns))
	req.Reapply = true
	mustApply(t, c, req)
	if r, _, _ := unstructured.NestedInt64(get(t, c, live).Object, "spec", "replicas"); r != 7 {
		t.Errorf("replicas = %d, want 7 (excluded from what is applied)", r)
	}
}
