package deployer_test

import (
	"reflect"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

func TestUnitObjectRefString(t *testing.T) {
	if s := (deployer.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a"}).String(); s != "ConfigMap ns/a" {
		t.Errorf("namespaced: %q", s)
	}
	if s := (deployer.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "ns"}).String(); s != "Namespace ns" {
		t.Errorf("cluster-scoped: %q", s)
	}
}

func TestUnitDeployedGVKs(t *testing.T) {
	got := deployer.DeployedGVKs([]deployer.ObjectRef{
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "x"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "a", Name: "x"},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "b", Name: "y"},
	})
	if want := []string{"ConfigMap.v1.", "Deployment.v1.apps"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// The hash depends on content only: key order and an existing hash annotation do
// not change it.
func TestHashIsCanonical(t *testing.T) {
	a := obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: n}, data: {x: "1", y: "2"}}`)
	b := obj(t, `{kind: ConfigMap, data: {y: "2", x: "1"}, metadata: {namespace: n, name: a}, apiVersion: v1}`)
	ha, err := deployer.Hash(a)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := deployer.Hash(b)
	b.SetAnnotations(map[string]string{libv1beta1.HashAnnotation: "stale"})
	hc, _ := deployer.Hash(b)
	if ha != hb || hb != hc {
		t.Errorf("hashes differ: %s %s %s", ha, hb, hc)
	}
	b.Object["data"] = map[string]any{"x": "1", "y": "3"}
	if hd, _ := deployer.Hash(b); hd == ha {
		t.Error("different content, same hash")
	}
}

// The tier rule shared by objects and Helm releases.
func TestUnitTakesOver(t *testing.T) {
	for _, tc := range []struct {
		name               string
		challenger, holder int32
		want               bool
	}{
		{"a lower tier takes over", 50, 100, true},
		{"equal tiers: the first owner keeps it", 100, 100, false},
		{"a higher tier does not", 150, 100, false},
		{"unset is the default tier", 0, deployer.DefaultTier, false},
		{"below the default takes from an unset holder", deployer.DefaultTier - 1, 0, true},
		{"negative is unset", -5, deployer.DefaultTier, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deployer.TakesOver(tc.challenger, tc.holder); got != tc.want {
				t.Errorf("TakesOver(%d, %d) = %v, want %v", tc.challenger, tc.holder, got, tc.want)
			}
		})
	}
}
