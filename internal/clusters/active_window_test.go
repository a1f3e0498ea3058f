package clusters_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A cluster with spec.activeWindow receives a profile's objects only inside its
// window: outside it the cluster is paused (status.nextUnpause says when the
// window opens), inside it the ConfigMap arrives, and once the window closes it
// is paused again. The test steps the controller's clock instead of waiting.
func TestActiveWindowGatesDeployment(t *testing.T) {
	ctx := context.Background()
	const ns, name = "active-window", "workload"
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{
		Namespace: ns, Name: name, Kubeconfig: env.Cluster("workload").Kubeconfig,
		Labels: map[string]string{"active-window": "test"},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: ns, Name: name}) })
	waitFor(t, ns, name, "ready", isReady)

	// The window opens two hours from the clock's now and closes two hours later.
	now := clock.Now().UTC().Truncate(time.Minute)
	opens, closes := now.Add(2*time.Hour), now.Add(4*time.Hour)
	updateCluster(t, ns, name, func(sc *libv1beta1.SveltosCluster) {
		sc.Spec.ActiveWindow = &libv1beta1.ActiveWindow{
			From: fmt.Sprintf("%d %d * * *", opens.Minute(), opens.Hour()),
			To:   fmt.Sprintf("%d %d * * *", closes.Minute(), closes.Hour()),
		}
	})
	sc := waitFor(t, ns, name, "outside its window", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Status.NextUnpause == nil || !sc.Status.NextUnpause.Time.Equal(opens) || sc.Status.NextPause == nil || !sc.Status.NextPause.Time.Equal(closes) {
			return fmt.Errorf("nextUnpause %v nextPause %v, want %s and %s", sc.Status.NextUnpause, sc.Status.NextPause, opens, closes)
		}
		return nil
	})
	if !selection.FromSveltos(sc).Paused {
		t.Fatal("outside its window the cluster is not seen as paused")
	}

	// A profile for the cluster: its summary is created, nothing is deployed.
	policy := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "window-policy"},
		Data: map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: deployed-in-window, namespace: default}
data: {deployed: "yes"}
`},
	}
	profile := &configv1beta1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "active-window"},
		Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"active-window": "test"}}},
			PolicyRefs:      []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: ns, Name: policy.Name}},
		},
	}
	for _, o := range []client.Object{policy, profile} {
		if err := mgmt.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = mgmt.Delete(ctx, profile) })
	summaryName := configv1beta1.ClusterSummaryNameFor(configv1beta1.ClusterProfileKind, profile.Name, libv1beta1.SveltosClusterID(ns, name))
	testenv.Eventually(t, "ClusterSummary created", func() error {
		return mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: summaryName}, &configv1beta1.ClusterSummary{})
	})
	workload := clientFor(t, "workload")
	deployed := &corev1.ConfigMap{}
	if err := workload.Get(ctx, types.NamespacedName{Namespace: "default", Name: "deployed-in-window"}, deployed); !apierrors.IsNotFound(err) {
		t.Fatalf("ConfigMap deployed outside the window (err %v)", err)
	}

	// Inside the window: the cluster unpauses and the ConfigMap arrives.
	clock.SetTime(now.Add(3 * time.Hour))
	waitFor(t, ns, name, "inside its window", func(sc *libv1beta1.SveltosCluster) error {
		if sc.OutsideActiveWindow() {
			return fmt.Errorf("still outside: nextUnpause %v nextPause %v", sc.Status.NextUnpause, sc.Status.NextPause)
		}
		return nil
	})
	testenv.Eventually(t, "ConfigMap deployed inside the window", func() error {
		return workload.Get(ctx, types.NamespacedName{Namespace: "default", Name: "deployed-in-window"}, deployed)
	})
	t.Cleanup(func() { _ = workload.Delete(ctx, deployed) })

	// After the window: paused again until the next day's opening.
	clock.SetTime(now.Add(5 * time.Hour))
	waitFor(t, ns, name, "outside its window again", func(sc *libv1beta1.SveltosCluster) error {
		if !sc.OutsideActiveWindow() || sc.Status.NextUnpause == nil || !sc.Status.NextUnpause.Time.Equal(opens.Add(24*time.Hour)) {
			return fmt.Errorf("nextUnpause %v nextPause %v", sc.Status.NextUnpause, sc.Status.NextPause)
		}
		return nil
	})
}

// A window whose cron expression does not parse: the status and a Warning
// Event name the field, and the cluster is treated as paused until it is fixed.
func TestActiveWindowInvalidCron(t *testing.T) {
	ctx := context.Background()
	const ns, name = "active-window-invalid", "workload"
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: ns, Name: name, Kubeconfig: env.Cluster("workload").Kubeconfig}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: ns, Name: name}) })
	waitFor(t, ns, name, "ready", isReady)
	updateCluster(t, ns, name, func(sc *libv1beta1.SveltosCluster) {
		sc.Spec.ActiveWindow = &libv1beta1.ActiveWindow{From: "every morning", To: "0 17 * * *"}
	})
	sc := waitFor(t, ns, name, "reporting the bad window", func(sc *libv1beta1.SveltosCluster) error {
		if !strings.Contains(deref(sc.Status.FailureMessage), `spec.activeWindow.from "every morning"`) {
			return fmt.Errorf("failureMessage %q", deref(sc.Status.FailureMessage))
		}
		return nil
	})
	if !sc.Status.Ready || !selection.FromSveltos(sc).Paused {
		t.Errorf("ready=%v paused=%v, want a ready cluster treated as paused", sc.Status.Ready, selection.FromSveltos(sc).Paused)
	}
	waitForEvent(t, ns, name, "ActiveWindowInvalid", `spec.activeWindow.from "every morning"`)

	// Fixed: the message goes and the window is computed.
	updateCluster(t, ns, name, func(sc *libv1beta1.SveltosCluster) { sc.Spec.ActiveWindow.From = "0 9 * * *" })
	waitFor(t, ns, name, "window computed", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Status.FailureMessage != nil || sc.Status.NextUnpause == nil {
			return fmt.Errorf("failureMessage %q nextUnpause %v", deref(sc.Status.FailureMessage), sc.Status.NextUnpause)
		}
		return nil
	})
}
