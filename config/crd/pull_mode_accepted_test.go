package crd_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// A Sveltos manifest registering a cluster in pull mode (pullMode: true, no
// kubeconfig) is accepted and stored as written.
func TestPullModeAccepted(t *testing.T) {
	c := newClient(t)
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: pullmode-accepted, namespace: default, labels: {env: edge}}
spec:
  pullMode: true
  consecutiveFailureThreshold: 2`), &obj.Object); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(obj.GroupVersionKind())
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	if pull, _, _ := unstructured.NestedBool(got.Object, "spec", "pullMode"); !pull {
		t.Errorf("stored spec %v, want pullMode: true", got.Object["spec"])
	}
}
