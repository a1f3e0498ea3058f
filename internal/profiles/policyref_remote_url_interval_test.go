package profiles_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// policyRefs[].remoteURL is fetched once per interval: a profile with a
// remote ref (interval 1h) and a ConfigMap ref is reconciled three more times
// (each change of the ConfigMap deploys again, which the test waits for), and
// the HTTPS server has still seen one request. With the interval shortened,
// the summary comes back and fetches again by itself: the server sees new
// requests and their new body is deployed.
func TestPolicyRefRemoteURLFetchedOncePerInterval(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := requests.Add(1)
		_, _ = fmt.Fprintf(w, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\n  namespace: remote-once\ndata:\n  fetch: %q\n", fmt.Sprint(n))
	}))
	t.Cleanup(srv.Close)

	local := func(value string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  namespace: remote-once\ndata:\n  value: " + value + "\n"
	}
	policyConfigMap(t, "remote-once-local", local("v0"))
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "remote-once"}}
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{
		{Kind: "ConfigMap", Namespace: "default", Name: "remote-once-remote", RemoteURL: &libv1beta1.RemoteURL{
			URL: srv.URL + "/app.yaml", InsecureSkipTLSVerify: true, Interval: &metav1.Duration{Duration: time.Hour},
		}},
		{Kind: "ConfigMap", Namespace: "default", Name: "remote-once-local"},
	}
	createSelecting(t, p, "app-1", "remote-once",
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "remote-once-local"}})

	testenv.Eventually(t, "the fetched content deployed", configMapHas("app-1", "remote-once", "fetched", map[string]string{"fetch": "1"}))
	for i := 1; i <= 3; i++ {
		value := fmt.Sprintf("v%d", i)
		setPolicy(t, "remote-once-local", nil, local(value))
		testenv.Eventually(t, "the changed ConfigMap deployed "+value, configMapHas("app-1", "remote-once", "local", map[string]string{"value": value}))
	}
	if got := requests.Load(); got != 1 {
		t.Fatalf("the server saw %d requests for 4 deploys inside the interval, want 1", got)
	}
	if err := configMapHas("app-1", "remote-once", "fetched", map[string]string{"fetch": "1"})(); err != nil {
		t.Fatalf("the cached content changed: %v", err)
	}

	updateClusterProfile(t, p.Name, func(p *configv1beta1.ClusterProfile) {
		p.Spec.PolicyRefs[0].RemoteURL.Interval = &metav1.Duration{Duration: time.Second}
	})
	testenv.Eventually(t, "fetched again after the interval, twice", func() error {
		if got := requests.Load(); got < 3 {
			return fmt.Errorf("%d requests", got)
		}
		return nil
	})
	testenv.Eventually(t, "a later fetch deployed", func() error {
		if err := configMapHas("app-1", "remote-once", "fetched", map[string]string{"fetch": "1"})(); err == nil {
			return fmt.Errorf("still the first fetch deployed")
		}
		return nil
	})
}
