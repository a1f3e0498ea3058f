package profiles_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A Profile's remoteURL credentials come from the Profile's own namespace: a
// secretRef elsewhere fails the feature naming the field, and the URL is never
// called (the manager would otherwise send any Secret it can read to any URL).
func TestPolicyRefRemoteURLSecretOutsideTheProfilesNamespace(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen, namespace: default}\n"))
	}))
	t.Cleanup(srv.Close)

	p := &configv1beta1.Profile{ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "remote-elsewhere"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"remote-elsewhere": "yes"}
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Name: "remote", RemoteURL: &libv1beta1.RemoteURL{
		URL: srv.URL, PlainHTTP: true, SecretRef: &corev1.SecretReference{Namespace: "kube-system", Name: "some-token"},
	}}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), p) })
	setLabels(t, "app-2", map[string]string{"remote-elsewhere": "yes"})
	t.Cleanup(func() { unsetLabels(t, "app-2", map[string]string{"remote-elsewhere": "yes"}) })

	name := configv1beta1.ClusterSummaryName(configv1beta1.ProfileKind, "remote-elsewhere", "app-2")
	testenv.Eventually(t, "the feature fails naming the secretRef", func() error {
		s := &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: name}, s); err != nil {
			return err
		}
		for _, f := range s.Status.FeatureSummaries {
			if f.FailureMessage != nil && strings.Contains(*f.FailureMessage, "policyRefs[0].remoteURL.secretRef") &&
				strings.Contains(*f.FailureMessage, "outside the Profile's namespace fleet") {
				return nil
			}
		}
		return errors.New("no feature says the secretRef is outside the Profile's namespace")
	})
	if n := calls.Load(); n != 0 {
		t.Errorf("the URL was called %d times, want never", n)
	}
}
