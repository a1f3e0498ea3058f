package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// luaTemplate builds, for the event's resource, a ConfigMap named after it,
// with the helpers Sveltos documents for Lua templates.
const luaTemplate = `
local json = require("json")
local strings = require("strings")
function evaluate()
  local cm = {
    apiVersion = "v1",
    kind = "ConfigMap",
    metadata = {name = resource.metadata.name .. "-lua", namespace = "default"},
    data = {
      cluster = cluster.metadata.name,
      upper = strings.ToUpper(resource.data.value),
      encoded = base64Encode(resource.data.value),
      label = getLabel(resource, "events-test"),
      ref = matchingResource.kind .. "/" .. matchingResource.name,
    },
  }
  return {resources = json.encode(cm)}
end`

// A policyRef annotated projectsveltos.io/instantiate and projectsveltos.io/lua
// holds Lua instead of Go templates: evaluate() reads the event (resource,
// matchingResource, cluster) and returns the content of the instantiated
// ConfigMap, which the generated profile deploys to the source cluster. A
// program that does not compile fails the cluster with a message naming the
// trigger's field, the ConfigMap and its key, records an Event on the
// trigger, and leaves what was deployed in place. A secretGenerator's Lua
// source is run the same way.
func TestLuaInstantiation(t *testing.T) {
	ctx := context.Background()
	const name = "events-lua"
	template := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name,
			Annotations: map[string]string{libv1beta1.InstantiateAnnotation: "ok", libv1beta1.LuaAnnotation: "ok"}},
		Data: map[string]string{"lua.yaml": luaTemplate},
	}
	source := labelledConfigMapsSource(name, "")
	source.Spec.CollectResources = true
	trigger := sourcedTrigger(name, name, true)
	// A secretGenerator's source may hold Lua too.
	generatorSource := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name + "-gen", Annotations: map[string]string{libv1beta1.LuaAnnotation: "ok"}},
		Data: map[string][]byte{"token": []byte(`function evaluate()
  return {resources = base64Decode(base64Encode(cluster.metadata.name .. ":" .. resource.data.value))}
end`)},
	}
	trigger.Spec.SecretGenerator = []libv1beta1.GeneratorReference{{Namespace: "default", Name: name + "-gen", NameFormat: "{{ .MatchingResource.Name }}-token"}}
	createAll(t, template, generatorSource, source, trigger)
	services := clusterClient(t, "services")
	createSourceConfigMap(t, services, name, name+"-app", "hello")
	setLabels(t, "services", map[string]string{name: "source"})
	t.Cleanup(func() { setLabels(t, "services", map[string]string{name: ""}) })

	deployed := types.NamespacedName{Namespace: "default", Name: name + "-app-lua"}
	want := map[string]string{"cluster": "services", "upper": "HELLO", "encoded": "aGVsbG8=", "label": name, "ref": "ConfigMap/" + name + "-app"}
	testenv.Eventually(t, "ConfigMap built by Lua deployed in services", func() error {
		cm := &corev1.ConfigMap{}
		if err := services.Get(ctx, deployed, cm); err != nil {
			return err
		}
		for k, v := range want {
			if cm.Data[k] != v {
				return fmt.Errorf("data %v, want %s=%s", cm.Data, k, v)
			}
		}
		return nil
	})
	// The instantiated copy holds the result, without the Lua annotation.
	copies := &corev1.ConfigMapList{}
	if err := mgmt.List(ctx, copies, client.InNamespace(libv1beta1.DefaultSystemNamespace), client.MatchingLabels{libv1beta1.EventTriggerNameLabel: name}); err != nil {
		t.Fatal(err)
	}
	if len(copies.Items) != 1 || copies.Items[0].Annotations[libv1beta1.LuaAnnotation] != "" || !strings.Contains(copies.Items[0].Data["lua.yaml"], `"upper":"HELLO"`) {
		t.Fatalf("instantiated copies %+v", copies.Items)
	}

	generated := &corev1.Secret{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: name + "-app-token"}, generated); err != nil {
		t.Fatal(err)
	}
	if got := string(generated.Data["token"]); got != "services:hello" {
		t.Fatalf("generated Secret holds %q, want services:hello", got)
	}

	// A program that does not compile.
	template.Data["lua.yaml"] = "function evaluate(\n"
	if err := mgmt.Update(ctx, template); err != nil {
		t.Fatal(err)
	}
	waitClusterInfo(t, name, func(ci libv1beta1.ClusterInfo) error {
		msg := ptrString(ci.FailureMessage)
		if ci.Status != libv1beta1.FeatureStatusFailed {
			return fmt.Errorf("status %s: %s", ci.Status, msg)
		}
		for _, w := range []string{"EventTrigger " + name + " policyRefs[0]", "ConfigMap default/" + name + " key lua.yaml", "annotation projectsveltos.io/lua", "parsing Lua"} {
			if !strings.Contains(msg, w) {
				return fmt.Errorf("failureMessage %q lacks %q", msg, w)
			}
		}
		return nil
	})
	testenv.Eventually(t, "Event on the trigger", func() error {
		return hasEvent(name, "InstantiationFailed", "parsing Lua")
	})
	if err := services.Get(ctx, deployed, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the deployed ConfigMap did not stay: %v", err)
	}
}
