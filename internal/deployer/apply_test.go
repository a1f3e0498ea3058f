package deployer_test

import (
	"context"
	"strings"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// Applying creates the missing namespace and the objects, each carrying the
// ownership label and annotations, the hash and the extra metadata; a
// cluster-scoped object loses a stray namespace.
func TestApplyCreatesObjectsWithOwnershipMetadata(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	cm := configMap(t, ns, "settings", "v1")
	role := obj(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: %s
  namespace: ignored
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
`, ns+"-reader")
	req := request(profile("cp", 0), fromSource("src", cm, role)...)
	req.Objects[1].Source.Tier = 20
	req.ExtraLabels = map[string]string{"team": "blue"}
	req.ExtraAnnotations = map[string]string{"note": "hello"}

	res := mustApply(t, c, req)

	if len(res.Deployed) != 2 || res.Deployed[0].String() != "ConfigMap "+ns+"/settings" || res.Deployed[1].String() != "ClusterRole "+ns+"-reader" {
		t.Fatalf("deployed = %v", res.Deployed)
	}
	nsObj := get(t, c, obj(t, "{apiVersion: v1, kind: Namespace, metadata: {name: %s}}", ns))
	if nsObj == nil {
		t.Fatal("namespace not created")
	}
	if _, owned := nsObj.GetAnnotations()[libv1beta1.OwnerNameAnnotation]; owned {
		t.Error("the implicitly created namespace carries ownership metadata")
	}
	live := get(t, c, cm)
	if live == nil {
		t.Fatal("ConfigMap not created")
	}
	wantAnn := map[string]string{
		libv1beta1.OwnerKindAnnotation:          "ClusterProfile",
		libv1beta1.OwnerNameAnnotation:          "cp",
		libv1beta1.OwnerTierAnnotation:          "100",
		libv1beta1.ReferenceKindAnnotation:      "ConfigMap",
		libv1beta1.ReferenceNameAnnotation:      "src",
		libv1beta1.ReferenceNamespaceAnnotation: "mgmt",
		"note":                                  "hello",
	}
	for k, v := range wantAnn {
		if got := live.GetAnnotations()[k]; got != v {
			t.Errorf("annotation %s = %q, want %q", k, got, v)
		}
	}
	if h := live.GetAnnotations()[libv1beta1.HashAnnotation]; len(h) != 64 {
		t.Errorf("hash annotation %q", h)
	}
	if l := live.GetLabels(); l[libv1beta1.ReasonLabel] != "Resources" || l["team"] != "blue" {
		t.Errorf("labels %v", l)
	}
	for _, mf := range live.GetManagedFields() {
		if mf.Manager != deployer.DefaultFieldManager || mf.Operation != "Apply" {
			t.Errorf("managed by %s/%s, want one apply manager %s", mf.Manager, mf.Operation, deployer.DefaultFieldManager)
		}
	}
	liveRole := get(t, c, role)
	if liveRole == nil || liveRole.GetNamespace() != "" {
		t.Fatalf("ClusterRole %v", liveRole)
	}
	if got := liveRole.GetAnnotations()[libv1beta1.ReferenceTierAnnotation]; got != "20" {
		t.Errorf("reference tier %q, want 20", got)
	}
}

// Re-applying the same desired state costs no write at all; changing one object
// writes that object only.
func TestApplyUnchangedMakesNoWrites(t *testing.T) {
	c, log := newClient(t)
	ns := uniqueName(t)
	objs := fromSource("src", configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1"), configMap(t, ns, "c", "1"))
	first := mustApply(t, c, request(profile("cp", 0), objs...))
	if first.Writes != 4 { // namespace + 3 applies
		t.Errorf("first apply: %d writes, want 4", first.Writes)
	}

	log.Reset()
	again := mustApply(t, c, request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "1"), configMap(t, ns, "b", "1"), configMap(t, ns, "c", "1"))...))
	if again.Writes != 0 || again.Unchanged != 3 || len(again.Deployed) != 3 {
		t.Errorf("re-apply: writes=%d unchanged=%d deployed=%v", again.Writes, again.Unchanged, again.Deployed)
	}
	if w := log.Writes(); len(w) != 0 {
		t.Errorf("re-apply sent write requests: %v", w)
	}

	log.Reset()
	changed := mustApply(t, c, request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "1"), configMap(t, ns, "b", "2"), configMap(t, ns, "c", "1"))...))
	if changed.Writes != 1 || changed.Unchanged != 2 {
		t.Errorf("one change: writes=%d unchanged=%d", changed.Writes, changed.Unchanged)
	}
	if w := log.Writes(); len(w) != 1 || !strings.Contains(w[0], "/configmaps/b") {
		t.Errorf("one change sent %v", w)
	}
	if got, _, _ := unstructuredString(get(t, c, configMap(t, ns, "b", "")), "data", "key"); got != "2" {
		t.Errorf("b = %q after update", got)
	}

	// Reapply (drift repair) writes even when the hash matches.
	req := request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "1"))...)
	req.Reapply = true
	if res := mustApply(t, c, req); res.Writes != 1 || res.Unchanged != 0 {
		t.Errorf("reapply: writes=%d unchanged=%d", res.Writes, res.Unchanged)
	}
}

// A namespaced object without a namespace is an error naming it.
func TestApplyNamespacedObjectWithoutNamespaceFails(t *testing.T) {
	c, _ := newClient(t)
	_, err := (&deployer.Deployer{}).Apply(context.Background(), c, request(profile("cp", 0), fromSource("src", configMap(t, "", "orphan", "x"))...))
	if err == nil || !strings.Contains(err.Error(), "ConfigMap orphan") || !strings.Contains(err.Error(), "namespaced") {
		t.Fatalf("err = %v", err)
	}
}

// An object the API server rejects fails the feature with the object's name and the
// server's message; the objects after it are not applied unless ContinueOnError.
func TestApplyErrorNamesObjectAndStopsUnlessContinueOnError(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	bad := invalidService(t, ns)
	after := configMap(t, ns, "after", "x")

	res, err := (&deployer.Deployer{}).Apply(context.Background(), c, request(profile("cp", 0), fromSource("src", bad, after)...))
	if err == nil {
		t.Fatal("no error for an invalid Service")
	}
	for _, want := range []string{"Service " + ns + "/bad", "spec.ports[0].port", "between 1 and 65535"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if get(t, c, after) != nil || len(res.Deployed) != 0 {
		t.Errorf("object after the failing one was applied: %v", res.Deployed)
	}

	req := request(profile("cp", 0), fromSource("src", bad, after)...)
	req.ContinueOnError = true
	res, err = (&deployer.Deployer{}).Apply(context.Background(), c, req)
	if err == nil || !strings.Contains(err.Error(), "Service "+ns+"/bad") {
		t.Errorf("continueOnError: err = %v", err)
	}
	if get(t, c, after) == nil || len(res.Deployed) != 1 {
		t.Errorf("continueOnError: deployed %v", res.Deployed)
	}
}

// With SkipNamespaceCreation a missing namespace stays missing and the apply fails.
func TestSkipNamespaceCreation(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	req := request(profile("cp", 0), fromSource("src", configMap(t, ns, "a", "1"))...)
	req.SkipNamespaceCreation = true
	_, err := (&deployer.Deployer{}).Apply(context.Background(), c, req)
	if err == nil || !strings.Contains(err.Error(), "ConfigMap "+ns+"/a") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v", err)
	}
	if get(t, c, obj(t, "{apiVersion: v1, kind: Namespace, metadata: {name: %s}}", ns)) != nil {
		t.Error("namespace created despite SkipNamespaceCreation")
	}
}
