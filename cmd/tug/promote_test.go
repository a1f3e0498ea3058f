package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// `tug promote approve stage` approves the commit dev waits to pass on (the
// annotation on Environment stage), and `tug schedule status` shows what the
// Environments report.
func TestPromoteApproveAndScheduleStatus(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	const ns, commit = "cli-promote", "9c01aa5e3b7d4f2a8c6e0b1d3f5a7c9e2b4d6f80"
	if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	cp := v1alpha1.RepositoryReference{Repo: "https://git.example/control-plane", Branch: "dev", Path: "."}
	dev := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dev"},
		Spec: v1alpha1.EnvironmentSpec{ControlPlane: cp, Promotion: &v1alpha1.Promotion{Next: "stage", Mode: v1alpha1.PromotionManual}}}
	cp.Branch = "stage"
	stage := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stage"}, Spec: v1alpha1.EnvironmentSpec{ControlPlane: cp}}
	for _, e := range []*v1alpha1.Environment{dev, stage} {
		if err := mgmt.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	// No commit waiting yet: nothing to approve.
	if out, err := tug(t, "promote", "approve", "stage", "-n", ns); err == nil || !strings.Contains(err.Error(), "no commit waiting") {
		t.Fatalf("approve without a waiting commit: %v\n%s", err, out)
	}

	// What the Environment controller reports while dev waits for approval.
	dev.Status = v1alpha1.EnvironmentStatus{
		Commit: commit, CompliantCommit: commit, Members: "2/2",
		Conditions: []metav1.Condition{{Type: v1alpha1.ConditionCompliant, Status: metav1.ConditionTrue, Reason: "Compliant",
			Message: "all 2 dev cluster(s) run 9c01aa5e3b7d", LastTransitionTime: metav1.Now()}},
		Clusters: []v1alpha1.ClusterCompliance{{Namespace: "fleet", Name: "drone-dev", ClusterType: "drone", Delivery: "tugboat",
			Revision: "1111111111111111111111111111111111111111", Commit: commit, Healthy: true, Compliant: true}},
		Promotion: &v1alpha1.PromotionStatus{Next: "stage", Commit: commit, Message: "stage waits: approval of 9c01aa5e3b7d (tug promote approve stage)"},
	}
	if err := mgmt.Status().Update(ctx, dev); err != nil {
		t.Fatal(err)
	}

	out, err := tug(t, "schedule", "status", "-n", ns)
	if err != nil {
		t.Fatalf("schedule status: %v\n%s", err, out)
	}
	for _, want := range []string{"ENVIRONMENT", "dev", "9c01aa5e3b7d", "2/2", "stage waits: approval of 9c01aa5e3b7d", "fleet/drone-dev", "drone", "tugboat", "111111111111"} {
		if !strings.Contains(out, want) {
			t.Errorf("schedule status does not show %q:\n%s", want, out)
		}
	}

	out, err = tug(t, "promote", "approve", "stage", "-n", ns)
	if err != nil {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	if !strings.Contains(out, "approved 9c01aa5e3b7d for stage (from dev)") {
		t.Errorf("output: %s", out)
	}
	got := &v1alpha1.Environment{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: "stage"}, got); err != nil {
		t.Fatal(err)
	}
	if a := got.Annotations[v1alpha1.ApprovedCommitAnnotation]; a != commit {
		t.Fatalf("annotation %s = %q, want %s", v1alpha1.ApprovedCommitAnnotation, a, commit)
	}
	if _, err := tug(t, "promote", "approve", "stage", "-n", ns, "--commit", "9c01"); err == nil {
		t.Error("a 4-character commit was accepted")
	}
}
