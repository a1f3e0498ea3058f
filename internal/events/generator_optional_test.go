package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// configMapGenerator entries: one whose source exists is rendered into the
// object its nameFormat names; an optional one whose source is missing is
// skipped (the trigger stays Provisioned); a required one whose source is
// missing fails the cluster with a message naming the entry and the object,
// and what was generated before stays.
func TestGeneratorOptionalSource(t *testing.T) {
	ctx := context.Background()
	const name = "events-generator-optional"
	applyYAML(t, []byte(`
apiVersion: v1
kind: ConfigMap
metadata: {name: `+name+`, namespace: default}
data:
  source: "{{ .Cluster.metadata.name }}"
---
`+configMapEventSource(name)+`apiVersion: lib.projectsveltos.io/v1beta1
kind: EventTrigger
metadata: {name: `+name+`}
spec:
  sourceClusterSelector: {matchLabels: {`+name+`: source}}
  destinationClusterSelector: {matchLabels: {`+name+`: nowhere}}
  eventSourceName: `+name+`
  configMapGenerator:
  - {namespace: default, name: "{{ .Cluster.metadata.labels.generator }}", nameFormat: "{{ .Cluster.metadata.name }}-`+name+`"}
  - {namespace: default, name: `+name+`-absent, nameFormat: absent-`+name+`, optional: true}
`))
	createSourceConfigMap(t, clusterClient(t, "services"), name, name, "x")
	setLabels(t, "services", map[string]string{name: "source", "generator": name})
	t.Cleanup(func() { setLabels(t, "services", map[string]string{name: "", "generator": ""}) })

	generated := types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: "services-" + name}
	testenv.Eventually(t, "generated ConfigMap "+generated.String(), func() error {
		cm := &corev1.ConfigMap{}
		if err := mgmt.Get(ctx, generated, cm); err != nil {
			return err
		}
		if cm.Data["source"] != "services" {
			return fmt.Errorf("data %v", cm.Data)
		}
		return nil
	})
	waitClusterInfo(t, name, func(ci libv1beta1.ClusterInfo) error {
		if ci.Status != libv1beta1.FeatureStatusProvisioned || ci.FailureMessage != nil {
			return fmt.Errorf("status %s: %s", ci.Status, ptrString(ci.FailureMessage))
		}
		return nil
	})
	if err := notFound(mgmt, &corev1.ConfigMap{}, types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: "absent-" + name}); err != nil {
		t.Fatal(err)
	}

	// A required generator whose source does not exist.
	trigger := &libv1beta1.EventTrigger{}
	patch := client.RawPatch(types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/configMapGenerator/-","value":{"namespace":"default","name":"`+name+`-required","nameFormat":"required-`+name+`"}}]`))
	trigger.Name = name
	if err := mgmt.Patch(ctx, trigger, patch); err != nil {
		t.Fatal(err)
	}
	waitClusterInfo(t, name, func(ci libv1beta1.ClusterInfo) error {
		msg := ptrString(ci.FailureMessage)
		if ci.Status != libv1beta1.FeatureStatusFailed {
			return fmt.Errorf("status %s: %s", ci.Status, msg)
		}
		for _, want := range []string{"EventTrigger " + name + " configMapGenerator[2]", "ConfigMap default/" + name + "-required not found"} {
			if !strings.Contains(msg, want) {
				return fmt.Errorf("failureMessage %q lacks %q", msg, want)
			}
		}
		return nil
	})
	if err := mgmt.Get(ctx, generated, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the last good state was not kept: %v", err)
	}
}
