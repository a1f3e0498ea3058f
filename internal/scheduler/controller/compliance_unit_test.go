package controller

import (
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

func TestUnitAssess(t *testing.T) {
	const c1, c2 = "3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b", "9c01aa5e3b7d4f2a8c6e0b1d3f5a7c9e2b4d6f80"
	member := func(name, delivery, commit string, healthy bool, msg string) v1alpha1.ClusterCompliance {
		return v1alpha1.ClusterCompliance{Namespace: "fleet", Name: name, ClusterType: strings.Split(name, "-")[0], Delivery: delivery,
			Revision: strings.Repeat("1", 40), Commit: commit, Healthy: healthy, Message: msg}
	}
	tests := []struct {
		name      string
		clusters  []v1alpha1.ClusterCompliance
		compliant bool
		reason    string
		members   string
		message   []string
	}{
		{"no members", nil, false, ReasonNoMembers, "0/0", []string{"no registered cluster is labelled scheduler.kalypso.io/environment=dev"}},
		{"all run it", []v1alpha1.ClusterCompliance{member("drone-dev", "tugboat", c1, true, ""), member("large-dev", "flux", c1, true, "")},
			true, ReasonCompliant, "2/2", []string{"all 2 dev cluster(s) run 3f2a9c1d7e5b"}},
		{"one behind", []v1alpha1.ClusterCompliance{member("drone-dev", "tugboat", c1, true, ""), member("large-dev", "tugboat", c2, true, "")},
			false, ReasonPending, "1/2", []string{"1 of 2 dev cluster(s) run 3f2a9c1d7e5b", "fleet/large-dev runs 9c01aa5e3b7d"}},
		{"unreachable first", []v1alpha1.ClusterCompliance{member("drone-dev", "tugboat", c2, true, ""), member("large-dev", "tugboat", c1, false, "unreachable: connection refused")},
			false, ReasonClusterUnreachable, "0/2", []string{"0 of 2 dev cluster(s) run 3f2a9c1d7e5b; fleet/large-dev is unreachable: connection refused; fleet/drone-dev runs 9c01aa5e3b7d"}},
		{"unhealthy", []v1alpha1.ClusterCompliance{member("drone-dev", "argocd", c1, false, "Application argocd/platform: sync OutOfSync, health Healthy")},
			false, ReasonClusterUnhealthy, "0/1", []string{"fleet/drone-dev: Application argocd/platform: sync OutOfSync"}},
		{"nothing assigned to its cluster type", []v1alpha1.ClusterCompliance{member("drone-dev", "tugboat", c1, true, ""), member("small-dev", "", "", true, "")},
			true, ReasonCompliant, "2/2", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Assess("dev", c1, tc.clusters)
			if got.Compliant != tc.compliant || got.Reason != tc.reason || got.Members != tc.members {
				t.Fatalf("Assess = %+v", got)
			}
			for _, m := range tc.message {
				if !strings.Contains(got.Message, m) {
					t.Errorf("message %q does not contain %q", got.Message, m)
				}
			}
		})
	}
}
