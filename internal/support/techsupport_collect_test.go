package support_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/support"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A Techsupport collecting ConfigMaps, Secrets and Warning events from the
// management cluster and one managed cluster, and pod logs from the management
// cluster: the archive holds the objects under management/ and
// clusters/<namespace>/<name>/, Secrets with their keys but not their values
// (the whole archive is scanned for them), Warning events only, and — as the
// test clusters run no kubelet, so no pod log can be read — the failure to read
// the pod's log, recorded in the archive. The run is Collected and announced by a
// KubernetesEvent notification. The managed cluster is chosen by
// clusterSelector, then by clusterRefs: changing the spec collects again (onDemand).
func TestTechsupportCollectsRedactedArchive(t *testing.T) {
	ctx := context.Background()
	workload := clusterClient(t, "workload")
	const ns = "support-data"
	secretValues := map[string]string{"mgmt": "mgmt-password-5b1f0c", "workload": "workload-password-9e27d4"}
	for _, c := range []struct {
		name   string
		client client.Client
	}{{"mgmt", mgmt}, {"workload", workload}} {
		value := secretValues[c.name]
		create(t, c.client, namespace(ns),
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings", Labels: map[string]string{"app": "shop"}},
				Data: map[string]string{"mode": "fast"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unlabelled"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "credentials", Labels: map[string]string{"app": "shop"},
				// as kubectl apply leaves it: the whole Secret again, value included
				Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: `{"stringData":{"password":"` + value + `"}}`}},
				Data: map[string][]byte{"password": []byte(value)}},
			coreEvent(ns, "shop-warning", corev1.EventTypeWarning, "BackOff"),
			coreEvent(ns, "shop-normal", corev1.EventTypeNormal, "Pulled"),
		)
	}
	// No kubelet runs: the pod, bound to a node no kubelet serves, never runs
	// and its log cannot be read.
	create(t, mgmt, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-0", Labels: map[string]string{"app": "shop"}},
		Spec: corev1.PodSpec{NodeName: "no-kubelet", Containers: []corev1.Container{{Name: "shop", Image: "shop:1"}}}})

	shop := []libv1beta1.LabelFilter{{Key: "app", Operation: libv1beta1.OperationEqual, Value: "shop"}}
	what := []libv1beta1.ResourceSelector{
		{Version: "v1", Kind: "ConfigMap", Namespace: ns, LabelFilters: shop},
		{Version: "v1", Kind: "Secret", Namespace: ns, LabelFilters: shop},
	}
	warnings := []libv1beta1.Event{{Namespace: ns, Type: corev1.EventTypeWarning}}
	ts := &libv1beta1.Techsupport{
		ObjectMeta: metav1.ObjectMeta{Name: "collect-shop"},
		Spec: libv1beta1.TechsupportSpec{
			OnDemand: true,
			FromManagement: libv1beta1.FromManagement{Resources: what, Events: warnings,
				Logs: []libv1beta1.Log{{Namespace: ns, LabelFilters: shop}}},
			FromManaged: libv1beta1.FromManaged{
				ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"support": "collect"}}},
				Resources:       what, Events: warnings},
			Notifications: []libv1beta1.Notification{{Name: "to-events", Type: libv1beta1.NotificationTypeKubernetesEvent}},
		},
	}
	// A selector reaches ready clusters only: wait until the workload cluster is.
	testenv.Eventually(t, "the workload cluster ready", func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: fleetNamespace, Name: "workload"}, sc); err != nil {
			return err
		}
		if !sc.Status.Ready {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	create(t, mgmt, ts)
	waitRun(t, ts.Name, 1, libv1beta1.CollectionStatusCollected)

	archives := archivesOf(t, ts.Name)
	files, raw := readArchive(t, archives[0])
	for _, want := range []string{
		"techsupport.json",
		"management/resources/configmap/support-data/settings.yaml",
		"management/resources/secret/support-data/credentials.yaml",
		"management/events/support-data/shop-warning.yaml",
		"management/logs/support-data/shop-0/shop.error",
		"clusters/fleet/workload/resources/configmap/support-data/settings.yaml",
		"clusters/fleet/workload/resources/secret/support-data/credentials.yaml",
		"clusters/fleet/workload/events/support-data/shop-warning.yaml",
	} {
		if _, ok := files[want]; !ok {
			t.Errorf("archive has no %s; it has %v", want, keys(files))
		}
	}
	for _, unwanted := range []string{
		"management/resources/configmap/support-data/unlabelled.yaml",
		"management/events/support-data/shop-normal.yaml",
		"clusters/fleet/workload/events/support-data/shop-normal.yaml",
	} {
		if _, ok := files[unwanted]; ok {
			t.Errorf("archive has %s, which the selectors exclude", unwanted)
		}
	}
	if s := files["management/resources/configmap/support-data/settings.yaml"]; !strings.Contains(s, "mode: fast") {
		t.Errorf("ConfigMap without its data:\n%s", s)
	}
	if s := files["clusters/fleet/workload/resources/secret/support-data/credentials.yaml"]; !strings.Contains(s, "password: "+support.RedactedValue) {
		t.Errorf("Secret without its key (value redacted):\n%s", s)
	}
	if s := files["management/logs/support-data/shop-0/shop.error"]; !strings.Contains(s, "shop-0") {
		t.Errorf("the log failure does not name the pod: %s", s)
	}
	for cluster, value := range secretValues {
		for _, form := range []string{value, base64.StdEncoding.EncodeToString([]byte(value))} {
			if bytes.Contains(raw, []byte(form)) {
				t.Errorf("the archive holds the %s Secret's value (%q)", cluster, form)
			}
		}
	}
	testenv.Eventually(t, "the KubernetesEvent notification", func() error {
		return findEvent(ctx, ts.Name, "TechsupportArchive", archives[0])
	})

	// A changed spec is collected again: the cluster named by clusterRefs now,
	// and no management events.
	testenv.Eventually(t, "changing the spec", func() error {
		got := &libv1beta1.Techsupport{}
		if err := mgmt.Get(ctx, types.NamespacedName{Name: ts.Name}, got); err != nil {
			return err
		}
		got.Spec.FromManagement.Events = nil
		got.Spec.FromManaged.ClusterSelector = libv1beta1.Selector{}
		got.Spec.FromManaged.ClusterRefs = []corev1.ObjectReference{{Kind: libv1beta1.SveltosClusterKind, Namespace: fleetNamespace, Name: "workload"}}
		return mgmt.Update(ctx, got)
	})
	waitRun(t, ts.Name, 2, libv1beta1.CollectionStatusCollected)
	second, _ := readArchive(t, archivesOf(t, ts.Name)[1])
	if _, ok := second["clusters/fleet/workload/resources/configmap/support-data/settings.yaml"]; !ok {
		t.Errorf("second archive lacks the cluster named by clusterRefs; it has %v", keys(second))
	}
	if _, ok := second["management/events/support-data/shop-warning.yaml"]; ok {
		t.Error("second archive still holds the management events the new spec no longer asks for")
	}
}

func coreEvent(ns, name, eventType, reason string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name},
		InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Namespace: ns, Name: "settings", APIVersion: "v1"},
		Type:           eventType, Reason: reason, Message: reason + " happened",
		Source: corev1.EventSource{Component: "support-test"},
	}
}

// waitRun waits until the Techsupport has written archives archives and its
// last run has status want; it returns the Techsupport.
func waitRun(t *testing.T, name string, archives int, want libv1beta1.CollectionStatus) *libv1beta1.Techsupport {
	t.Helper()
	got := &libv1beta1.Techsupport{}
	testenv.Eventually(t, fmt.Sprintf("Techsupport %s: %d archive(s), %s", name, archives, want), func() error {
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, got); err != nil {
			return err
		}
		if got.Status.LastRunStatus == nil || *got.Status.LastRunStatus != want {
			return fmt.Errorf("status %+v", got.Status)
		}
		if n := len(archivesOf(t, name)); n != archives {
			return fmt.Errorf("%d archives", n)
		}
		return nil
	})
	return got
}

// archivesOf lists the archives of a Techsupport, oldest first.
func archivesOf(t *testing.T, name string) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(archiveDir, name, name+"-*.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(found)
	return found
}

// readArchive returns the files of an archive and all its bytes, uncompressed.
func readArchive(t *testing.T, path string) (map[string]string, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = string(data)
	}
	return files, raw
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// findEvent looks for an Event about a Techsupport with reason whose note contains text.
func findEvent(ctx context.Context, techsupport, reason, text string) error {
	list := &eventsv1.EventList{}
	if err := mgmt.List(ctx, list); err != nil {
		return err
	}
	var seen []string
	for _, e := range list.Items {
		if e.Regarding.Kind != libv1beta1.TechsupportKind || e.Regarding.Name != techsupport {
			continue
		}
		if e.Reason == reason && strings.Contains(e.Note, text) {
			return nil
		}
		seen = append(seen, e.Reason+": "+e.Note)
	}
	return fmt.Errorf("no %s Event containing %q about Techsupport %s; seen %q", reason, text, techsupport, seen)
}
