package profiles_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// New content for a provisioned feature: the summary says Provisioning before
// the objects are applied, and Provisioned only once every one of them carries
// the new content (issue #22, finding 3: status used to be written only after
// the apply, so it said Provisioned while the old content was still deployed).
func TestProvisioningWhileNewContentIsApplied(t *testing.T) {
	ctx := context.Background()
	const objects = 8
	content := func(value string) string {
		var b strings.Builder
		for i := range objects {
			fmt.Fprintf(&b, "---\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"progress-%d\", \"namespace\": \"progress\"}, \"data\": {\"value\": %q}}\n", i, value)
		}
		return b.String()
	}
	policyConfigMap(t, "progress-cm", content("v1"))
	clusterProfile(t, "progress", "progress", "yes", 100, "", "progress-cm")
	setLabels(t, "app-1", map[string]string{"progress": "yes"})
	oldHash := waitSummary(t, "progress", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned)).
		FeatureSummary(libv1beta1.FeatureResources).Hash

	wc, err := client.NewWithWatch(env.Management().Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	name := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "progress", "app-1")
	w := watchSummary(t, wc, "fleet")
	defer w.Stop()

	setPolicy(t, "progress-cm", nil, content("v2"))
	app1 := managedClient(t, "app-1")
	var seen []string
	deadline := time.After(testenv.WaitTimeout)
	for {
		var ev watch.Event
		select {
		case ev = <-w.ResultChan():
			if ev.Type == "" || ev.Type == watch.Error {
				t.Fatalf("watch ended (%v); statuses seen: %v", ev.Object, seen)
			}
		case <-deadline:
			t.Fatalf("no Provisioned status for the new content after %s; statuses seen: %v", testenv.WaitTimeout, seen)
		}
		s, ok := ev.Object.(*configv1beta1.ClusterSummary)
		if !ok {
			t.Fatalf("watch: %s %v", ev.Type, ev.Object)
		}
		if s.Name != name {
			continue
		}
		fs := s.FeatureSummary(libv1beta1.FeatureResources)
		if fs == nil || (fs.Status == libv1beta1.FeatureStatusProvisioned && bytes.Equal(fs.Hash, oldHash)) {
			continue // not yet reconciled since the change
		}
		if len(seen) == 0 || seen[len(seen)-1] != string(fs.Status) {
			seen = append(seen, string(fs.Status))
		}
		if fs.Status != libv1beta1.FeatureStatusProvisioned {
			continue
		}
		// Provisioned again: every object must carry the new content by now.
		stale := 0
		for i := range objects {
			cm := &corev1.ConfigMap{}
			if err := app1.Get(ctx, types.NamespacedName{Namespace: "progress", Name: fmt.Sprintf("progress-%d", i)}, cm); err != nil {
				t.Fatal(err)
			}
			if cm.Data["value"] != "v2" {
				stale++
			}
		}
		if stale > 0 {
			t.Fatalf("summary Provisioned with %d of %d objects still on the old content (statuses seen: %v)", stale, objects, seen)
		}
		break
	}
	if len(seen) < 2 || seen[0] != string(libv1beta1.FeatureStatusProvisioning) {
		t.Errorf("statuses after the change %v, want Provisioning first, then Provisioned", seen)
	}
}

// watchSummary lists the summaries of a namespace and watches them from that
// list's resource version (every later change arrives), retrying a watch the API
// server refuses while its cache catches up.
func watchSummary(t *testing.T, wc client.WithWatch, namespace string) watch.Interface {
	t.Helper()
	deadline := time.Now().Add(testenv.WaitTimeout)
	for {
		list := &configv1beta1.ClusterSummaryList{}
		if err := wc.List(context.Background(), list, client.InNamespace(namespace)); err != nil {
			t.Fatal(err)
		}
		w, err := wc.Watch(context.Background(), &configv1beta1.ClusterSummaryList{}, client.InNamespace(namespace),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err == nil {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("watching ClusterSummaries in %s: %v", namespace, err)
		}
		time.Sleep(time.Second)
	}
}
