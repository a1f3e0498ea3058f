package crd_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// A Sveltos manifest verifying a chart keylessly (provider Keyless with
// matchOIDCIdentity, no Tugboat field) is accepted and stored as written, and so
// is one naming Tugboat's trustedRootSecretRef.
func TestSignatureVerificationKeylessAccepted(t *testing.T) {
	c := newClient(t)
	for name, sv := range map[string]string{
		"keyless-sveltos":     `{provider: Keyless, matchOIDCIdentity: [{issuer: "^https://token.actions.githubusercontent.com$", subject: "^https://github.com/org/.*$"}]}`,
		"keyless-trustedroot": `{provider: Keyless, matchOIDCIdentity: [{issuer: ".*", subject: "release@example.com"}], trustedRootSecretRef: {name: sigstore, namespace: projectsveltos}}`,
	} {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(`
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: `+name+`}
spec:
  helmCharts:
  - {repositoryURL: "oci://example.com/charts", repositoryName: r, chartName: c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, signatureVerification: `+sv+`}`), &obj.Object); err != nil {
			t.Fatal(err)
		}
		want, _, _ := unstructured.NestedSlice(obj.Object, "spec", "helmCharts")
		if err := c.Create(context.Background(), obj); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(obj.GroupVersionKind())
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
			t.Fatal(err)
		}
		stored, _, _ := unstructured.NestedSlice(got.Object, "spec", "helmCharts")
		wantSV := want[0].(map[string]any)["signatureVerification"]
		gotSV := stored[0].(map[string]any)["signatureVerification"]
		if w, g := yamlOf(t, wantSV), yamlOf(t, gotSV); w != g {
			t.Errorf("%s: stored signatureVerification %s, want %s", name, g, w)
		}
	}
}

func yamlOf(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
