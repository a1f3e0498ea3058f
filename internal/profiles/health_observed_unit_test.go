package profiles

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboat-dev/tugboat/internal/deployer"
)

func TestUnitNotYetObserved(t *testing.T) {
	web := func(rv string) unstructured.Unstructured {
		u := unstructured.Unstructured{}
		u.SetAPIVersion("apps/v1")
		u.SetKind("Deployment")
		u.SetNamespace("health")
		u.SetName("web")
		u.SetResourceVersion(rv)
		return u
	}
	applied := map[deployer.ObjectRef]deployer.Version{
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "health", Name: "web"}: {ResourceVersion: "120"},
	}
	for _, tc := range []struct {
		name    string
		objs    []unstructured.Unstructured
		applied map[deployer.ObjectRef]deployer.Version
		want    string
	}{
		{"the watch holds the object as it was before the apply", []unstructured.Unstructured{web("99")}, applied, "Deployment health/web"},
		{"the watch has seen the apply", []unstructured.Unstructured{web("120")}, applied, ""},
		{"the watch has seen a later write", []unstructured.Unstructured{web("130")}, applied, ""},
		{"nothing applied in this reconcile", []unstructured.Unstructured{web("99")}, nil, ""},
		{"a resourceVersion that is not a number counts as seen", []unstructured.Unstructured{web("abc")}, applied, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := notYetObserved(tc.objs, tc.applied); got != tc.want {
				t.Errorf("notYetObserved = %q, want %q", got, tc.want)
			}
		})
	}
}
