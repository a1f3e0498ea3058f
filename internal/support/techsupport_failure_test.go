package support_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Bad input fails the run with a message naming the cause, in status and in a
// Warning Event, and the manager goes on: an invalid Lua script, a kind the
// cluster does not serve, a malformed cluster selector, a cluster that does not
// exist, an unreachable cluster (what could be collected is still archived) and
// a schedule that is not cron.
func TestTechsupportBadInputFails(t *testing.T) {
	ctx := context.Background()
	// A registered cluster whose API server does not answer.
	kubeconfig, err := clientcmd.Load(env.Cluster("workload").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kubeconfig.Clusters {
		c.Server = "https://127.0.0.1:1"
	}
	unreachable, err := clientcmd.Write(*kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: fleetNamespace, Name: "unreachable", Kubeconfig: unreachable}); err != nil {
		t.Fatal(err)
	}
	configMaps := []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: "kube-system"}}
	ref := func(name string) []corev1.ObjectReference {
		return []corev1.ObjectReference{{Kind: libv1beta1.SveltosClusterKind, Namespace: fleetNamespace, Name: name}}
	}

	for _, tc := range []struct {
		name    string
		spec    libv1beta1.TechsupportSpec
		reason  string
		message []string
		archive bool
	}{
		{name: "bad-lua", reason: "InvalidSpec", message: []string{"fromManagement.resources[0]", "evaluate"},
			spec: libv1beta1.TechsupportSpec{FromManagement: libv1beta1.FromManagement{Resources: []libv1beta1.ResourceSelector{
				{Version: "v1", Kind: "ConfigMap", Evaluate: "function evaluate( return"}}}}},
		{name: "unknown-kind", reason: "CollectionFailed", message: []string{"management: listing v1/Gadget"}, archive: true,
			spec: libv1beta1.TechsupportSpec{FromManagement: libv1beta1.FromManagement{Resources: []libv1beta1.ResourceSelector{
				{Version: "v1", Kind: "Gadget"}}}}},
		{name: "bad-cluster-selector", reason: "InvalidSpec", message: []string{"fromManaged.clusterSelector"},
			spec: libv1beta1.TechsupportSpec{FromManaged: libv1beta1.FromManaged{Resources: configMaps,
				ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "env", Operator: metav1.LabelSelectorOpIn}}}}}}},
		{name: "missing-cluster", reason: "CollectionFailed", message: []string{"cluster fleet/nowhere (fromManaged.clusterRefs[0]) does not exist"}, archive: true,
			spec: libv1beta1.TechsupportSpec{FromManaged: libv1beta1.FromManaged{Resources: configMaps, ClusterRefs: ref("nowhere")}}},
		{name: "unreachable-cluster", reason: "CollectionFailed", message: []string{"cluster fleet/unreachable:", "127.0.0.1:1"}, archive: true,
			spec: libv1beta1.TechsupportSpec{FromManaged: libv1beta1.FromManaged{Resources: configMaps, ClusterRefs: ref("unreachable")}}},
		{name: "bad-schedule", reason: "InvalidSchedule", message: []string{`schedulingConfig.schedule "every tuesday"`},
			spec: libv1beta1.TechsupportSpec{SchedulingConfig: &libv1beta1.SchedulingConfig{Schedule: "every tuesday"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.OnDemand = tc.spec.SchedulingConfig == nil
			tc.spec.Notifications = []libv1beta1.Notification{}
			ts := &libv1beta1.Techsupport{ObjectMeta: metav1.ObjectMeta{Name: "fail-" + tc.name}, Spec: tc.spec}
			create(t, mgmt, ts)
			got := &libv1beta1.Techsupport{}
			testenv.Eventually(t, "the run failed", func() error {
				if err := mgmt.Get(ctx, types.NamespacedName{Name: ts.Name}, got); err != nil {
					return err
				}
				if got.Status.LastRunStatus == nil || *got.Status.LastRunStatus != libv1beta1.CollectionStatusFailed || got.Status.FailureMessage == nil {
					return fmt.Errorf("status %+v", got.Status)
				}
				return nil
			})
			for _, part := range tc.message {
				if !strings.Contains(*got.Status.FailureMessage, part) {
					t.Errorf("failureMessage %q does not say %q", *got.Status.FailureMessage, part)
				}
			}
			testenv.Eventually(t, "the Warning Event", func() error {
				return findEvent(ctx, ts.Name, tc.reason, tc.message[0])
			})
			if n := len(archivesOf(t, ts.Name)); (n > 0) != tc.archive {
				t.Errorf("%d archives; want an archive of what could be collected: %v", n, tc.archive)
			}
		})
	}
}
