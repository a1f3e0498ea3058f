package profiles_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// remoteInterval is the remoteURL interval of the test: how often the content
// is fetched again, and how long a fetch may wait for an answer.
const remoteInterval = time.Second

// policyRefs[].remoteURL: a real HTTPS server (its own CA, trusted through the
// Secret's ca.crt; basic auth from the same Secret) serves a template; it is
// deployed rendered for the cluster, and fetched again every interval — a new
// body is deployed. A 404, no answer within the interval and a body that is
// not YAML each fail the Resources feature with a message naming the ref and
// the URL, and the last good content stays deployed.
func TestPolicyRefRemoteURL(t *testing.T) {
	ctx := context.Background()
	content := &testenv.ContentServer{Authorized: testenv.BasicAuth("deployer", "s3cret")}
	srv := httptest.NewTLSServer(content)
	t.Cleanup(srv.Close)
	object := func(value string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\n  namespace: remote-url\ndata:\n  cluster: '{{ .Cluster.metadata.name }}'\n  value: " + value + "\n"
	}
	content.Set([]byte(object("v1")), http.StatusOK)

	if err := mgmt.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "remote-url-access"},
		Data: map[string][]byte{
			"username": []byte("deployer"), "password": []byte("s3cret"),
			"ca.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		},
	}); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/app.yaml"
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "remote-url"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"remote-url": "yes"}
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{
		Kind: "ConfigMap", Namespace: "default", Name: "remote-app",
		RemoteURL: &libv1beta1.RemoteURL{
			URL: url, Interval: &metav1.Duration{Duration: remoteInterval},
			SecretRef: &corev1.SecretReference{Namespace: "default", Name: "remote-url-access"}, Template: true,
		},
	}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"remote-url": "yes"})
	t.Cleanup(func() { setLabels(t, "app-1", map[string]string{"remote-url": ""}) })

	key := types.NamespacedName{Namespace: "remote-url", Name: "fetched"}
	deployed := func(value string) func() error {
		return configMapHas("app-1", key.Namespace, key.Name, map[string]string{"cluster": "app-1", "value": value})
	}
	testenv.Eventually(t, "the fetched template deployed, rendered", deployed("v1"))

	content.Set([]byte(object("v2")), http.StatusOK)
	testenv.Eventually(t, "the new body deployed at the next fetch", deployed("v2"))

	for _, bad := range []struct {
		name         string
		body         string
		status       int
		hang         bool
		wantMessages []string
	}{
		{"404", "gone", http.StatusNotFound, false, []string{"policyRefs[0].remoteURL", url, "404 Not Found"}},
		{"no answer", "", 0, true, []string{"policyRefs[0].remoteURL", url, "no answer within"}},
		{"not YAML", "kind: [unclosed", http.StatusOK, false, []string{"remoteURL " + url}},
	} {
		if bad.hang {
			content.Hang()
		} else {
			content.Set([]byte(bad.body), bad.status)
		}
		waitSummary(t, p.Name, "app-1", failedWith(bad.wantMessages...))
		if err := deployed("v2")(); err != nil {
			t.Errorf("%s: the last good content was not kept: %v", bad.name, err)
		}
	}
}
