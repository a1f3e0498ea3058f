package main

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// `tug register cluster --labels` with the scheduler's membership labels makes
// the cluster a member of a cluster type in an environment (docs/scheduling.md).
func TestRegisterClusterMembership(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	labels := "--labels=" + v1alpha1.MemberClusterTypeLabel + "=drone," + v1alpha1.MemberEnvironmentLabel + "=dev"
	out, err := tug(t, "register", "cluster", "--namespace=cli-member", "--cluster=drone-dev",
		"--kubeconfig="+env.Cluster("services").KubeconfigPath, labels)
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "cli-member", Name: "drone-dev"}, sc); err != nil {
		t.Fatal(err)
	}
	environment, clusterType, ok := scheduler.Membership(sc.Labels)
	if !ok || environment != "dev" || clusterType != "drone" {
		t.Fatalf("labels %v: member of %q/%q (%v), want dev/drone", sc.Labels, environment, clusterType, ok)
	}
	if out, err := tug(t, "deregister", "cluster", "-n", "cli-member", "--cluster=drone-dev"); err != nil {
		t.Fatalf("deregister: %v\n%s", err, out)
	}
}
