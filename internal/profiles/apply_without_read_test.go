package profiles_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// recordedHashes are the names and hashes of the remote objects the record of
// Resources holds; an object recorded without its hash is an error.
func recordedHashes(s *configv1beta1.ClusterSummary) (map[string]string, error) {
	out := map[string]string{}
	for _, rec := range s.Status.DeployedObjects {
		if rec.FeatureID != libv1beta1.FeatureResources {
			continue
		}
		for _, o := range rec.Remote {
			if o.Hash == "" {
				return nil, fmt.Errorf("%s %s recorded without its hash", o.Kind, o.Name)
			}
			out[o.Name] = o.Hash
		}
	}
	return out, nil
}

// provisionedWithNewHashes accepts a summary whose Resources are Provisioned
// and whose record holds, for each of names, a hash other than the one in old.
func provisionedWithNewHashes(old map[string]string, names ...string) func(*configv1beta1.ClusterSummary) error {
	return func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioned); err != nil {
			return err
		}
		hashes, err := recordedHashes(s)
		if err != nil {
			return err
		}
		for _, n := range names {
			if hashes[n] == "" || hashes[n] == old[n] {
				return fmt.Errorf("%s recorded with hash %q, want a new one (was %q)", n, hashes[n], old[n])
			}
		}
		return nil
	}
}

// appliedUnread tells whether requests (requestRecorder.in, in order) hold a
// PATCH of ConfigMap name that no GET of it came just before: applied without
// reading it first.
func appliedUnread(requests []string, ns, name string) bool {
	path := "/api/v1/namespaces/" + ns + "/configmaps/" + name
	var last string
	for _, r := range requests {
		method, p, _ := strings.Cut(r, " ")
		if p != path {
			continue
		}
		if method == http.MethodPatch && last != http.MethodGet {
			return true
		}
		last = method
	}
	return false
}

// New content for objects the summary recorded is applied with one PATCH per
// object, without reading them first, and the record takes the new hashes.
func TestContentChangeOfRecordedObjectsIsAppliedWithoutReading(t *testing.T) {
	const ns, cluster = "apply-unread", "counted-apply-unread"
	requests := countedCluster(t, cluster, "app-1", map[string]string{"apply-unread": "yes"})
	deletePoliciesAtEnd(t, "apply-unread-cm")
	policyConfigMap(t, "apply-unread-cm", configMapsYAML(ns, "1", "a", "b"))
	clusterProfile(t, "apply-unread", "apply-unread", "yes", 100, "", "apply-unread-cm")
	deleteProfileAtEnd(t, "apply-unread")
	first := waitSummary(t, "apply-unread", cluster, provisionedWithNewHashes(nil, "a", "b"))
	old, _ := recordedHashes(first)

	requests.reset()
	setPolicy(t, "apply-unread-cm", nil, configMapsYAML(ns, "2", "a", "b"))
	waitSummary(t, "apply-unread", cluster, provisionedWithNewHashes(old, "a", "b"))
	for _, name := range []string{"a", "b"} {
		testenv.Eventually(t, name+" updated", configMapHas("app-1", ns, name, map[string]string{"v": "2"}))
		if sent := requests.in(ns); !appliedUnread(sent, ns, name) {
			t.Errorf("%s was read before each apply: %v", name, sent)
		}
	}
	live := &corev1.ConfigMap{}
	if err := managedClient(t, "app-1").Get(t.Context(), types.NamespacedName{Namespace: ns, Name: "a"}, live); err != nil {
		t.Fatal(err)
	}
	s := waitSummary(t, "apply-unread", cluster, provisionedWithNewHashes(old, "a", "b"))
	if hashes, _ := recordedHashes(s); hashes["a"] != live.Annotations[libv1beta1.HashAnnotation] {
		t.Errorf("recorded hash %q, the object carries %q", hashes["a"], live.Annotations[libv1beta1.HashAnnotation])
	}
}
