package bootstrap

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// The two objects a Git bootstrap applies: the GitRepository following the
// branch, and the ClusterProfile deploying the path into the cluster, released
// (LeavePolicies) when it stops.
func TestUnitGitObjects(t *testing.T) {
	g := Git{URL: "https://git.example/platform.git", Branch: "main", Path: "platform", Name: "tugboat-platform",
		Namespace: "flux-system", Interval: time.Minute, Cluster: types.NamespacedName{Namespace: "mgmt", Name: "mgmt"}}
	for _, tc := range []struct {
		name  string
		obj   *unstructured.Unstructured
		field []string
		want  string
	}{
		{"repository url", g.GitRepository(), []string{"spec", "url"}, g.URL},
		{"repository branch", g.GitRepository(), []string{"spec", "ref", "branch"}, "main"},
		{"repository interval", g.GitRepository(), []string{"spec", "interval"}, "1m0s"},
		{"repository namespace", g.GitRepository(), []string{"metadata", "namespace"}, "flux-system"},
		{"profile sync", g.ClusterProfile(), []string{"spec", "syncMode"}, "Continuous"},
		{"profile stop", g.ClusterProfile(), []string{"spec", "stopMatchingBehavior"}, "LeavePolicies"},
		{"profile name", g.ClusterProfile(), []string{"metadata", "name"}, "tugboat-platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := unstructured.NestedString(tc.obj.Object, tc.field...)
			if err != nil || got != tc.want {
				t.Errorf("%v = %q (%v), want %q", tc.field, got, err, tc.want)
			}
		})
	}
	refs, _, _ := unstructured.NestedSlice(g.ClusterProfile().Object, "spec", "policyRefs")
	if len(refs) != 1 {
		t.Fatalf("policyRefs %v, want one", refs)
	}
	ref := refs[0].(map[string]any)
	if ref["kind"] != "GitRepository" || ref["namespace"] != "flux-system" || ref["name"] != "tugboat-platform" || ref["path"] != "platform" {
		t.Errorf("policyRefs[0] = %v, want the GitRepository flux-system/tugboat-platform, path platform", ref)
	}
	clusterRefs, _, _ := unstructured.NestedSlice(g.ClusterProfile().Object, "spec", "clusterRefs")
	if len(clusterRefs) != 1 || clusterRefs[0].(map[string]any)["name"] != "mgmt" || clusterRefs[0].(map[string]any)["kind"] != "SveltosCluster" {
		t.Errorf("clusterRefs %v, want SveltosCluster mgmt/mgmt", clusterRefs)
	}
}
