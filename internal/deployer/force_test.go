package deployer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/deployer"
)

func immutableConfigMap(t *testing.T, ns, value string) deployer.Desired {
	t.Helper()
	return fromSource("src", obj(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen, namespace: %s}
immutable: true
data: {key: %q}
`, ns, value))[0]
}

// Changing an immutable field fails with the server's message; with Force the
// object is deleted and created anew.
func TestForceRecreatesOnImmutableField(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	mustApply(t, c, request(profile("cp", 0), immutableConfigMap(t, ns, "v1")))
	before := get(t, c, immutableConfigMap(t, ns, "").Object)

	_, err := (&deployer.Deployer{}).Apply(context.Background(), c, request(profile("cp", 0), immutableConfigMap(t, ns, "v2")))
	if err == nil || !strings.Contains(err.Error(), "ConfigMap "+ns+"/frozen") || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("without force: err = %v", err)
	}

	want := immutableConfigMap(t, ns, "v2")
	want.Force = true
	res := mustApply(t, c, request(profile("cp", 0), want))
	after := get(t, c, want.Object)
	if after == nil || after.GetUID() == before.GetUID() {
		t.Fatalf("object not recreated (uid %v -> %v)", before.GetUID(), after)
	}
	if v, _, _ := unstructuredString(after, "data", "key"); v != "v2" {
		t.Errorf("data %q, want v2", v)
	}
	if res.Writes != 3 { // failed apply, delete, apply
		t.Errorf("writes = %d, want 3", res.Writes)
	}
}
