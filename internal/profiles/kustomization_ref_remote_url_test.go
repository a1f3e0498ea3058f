package profiles_test

import (
	"context"
	"encoding/pem"
	"fmt"
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

// kustomizationRefs[].remoteURL: a real HTTPS server (its own CA trusted
// through the Secret's ca.crt, a bearer token from the same Secret) serves a
// tar.gz of a base and an overlay; the overlay at path is built with a
// component, targetNamespace and values, and deployed. A new archive is
// deployed at the next fetch. Content that is not a tar archive, a path that
// is not in the archive and a server answering 404 each fail the Kustomize
// feature with a message naming the ref and the URL (status and a Warning
// Event on the summary), and what was deployed stays.
func TestKustomizationRefRemoteURL(t *testing.T) {
	ctx := context.Background()
	server := &testenv.ContentServer{Authorized: testenv.BearerToken("kustomize-token")}
	srv := httptest.NewTLSServer(server)
	t.Cleanup(srv.Close)
	archive := func(level string) []byte {
		return testenv.TarGz(t, map[string]string{
			"base/kustomization.yaml":             "resources:\n- settings.yaml\n",
			"base/settings.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote-settings\ndata:\n  region: '{{ .Region }}'\n  level: base\n",
			"overlays/prod/kustomization.yaml":    "resources:\n- ../../base\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: remote-settings\n    data:\n      level: " + level + "\n",
			"components/audit/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n- pairs:\n    audit: enabled\n",
		})
	}
	server.Set(archive("prod-v1"), http.StatusOK)

	if err := mgmt.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kustomize-remote-access"},
		Data: map[string][]byte{
			"token":  []byte("kustomize-token"),
			"ca.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		},
	}); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/app.tar.gz"
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "kustomize-remote"}}
	p.Spec.KustomizationRefs = []libv1beta1.KustomizationRef{{
		Kind: "ConfigMap", Namespace: "default", Name: "kustomize-remote-app", Path: "overlays/prod",
		TargetNamespace: "kustomize-remote", Components: []string{"../../components/audit"},
		Values: map[string]string{"Region": "{{ .Cluster.metadata.name }}-west"},
		RemoteURL: &libv1beta1.RemoteURL{
			URL: url, Interval: &metav1.Duration{Duration: time.Second},
			SecretRef: &corev1.SecretReference{Namespace: "default", Name: "kustomize-remote-access"},
		},
	}}
	createSelecting(t, p, "app-1", "kustomize-remote",
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kustomize-remote-access"}})

	deployed := func(level string) func() error {
		return configMapHas("app-1", "kustomize-remote", "remote-settings", map[string]string{"region": "app-1-west", "level": level})
	}
	testenv.Eventually(t, "the fetched overlay deployed", deployed("prod-v1"))
	testenv.Eventually(t, "the component applied", func() error {
		cm := &corev1.ConfigMap{}
		if err := managedClientNoT("app-1").Get(ctx, types.NamespacedName{Namespace: "kustomize-remote", Name: "remote-settings"}, cm); err != nil {
			return err
		}
		if cm.Labels["audit"] != "enabled" {
			return fmt.Errorf("labels %v", cm.Labels)
		}
		return nil
	})

	server.Set(archive("prod-v2"), http.StatusOK)
	testenv.Eventually(t, "the new archive deployed at the next fetch", deployed("prod-v2"))

	summary := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, p.Name, "app-1")
	for _, bad := range []struct {
		name   string
		change func()
		want   []string
	}{
		{"not an archive", func() { server.Set([]byte("apiVersion: v1\nkind: ConfigMap\n"), http.StatusOK) },
			[]string{"kustomizationRefs[0].remoteURL", url, "not a tar archive"}},
		{"missing path", func() {
			server.Set(archive("prod-v2"), http.StatusOK)
			updateClusterProfile(t, p.Name, func(p *configv1beta1.ClusterProfile) { p.Spec.KustomizationRefs[0].Path = "overlays/staging" })
		}, []string{"kustomizationRefs[0] remoteURL " + url, `no folder "overlays/staging"`, "overlays/prod"}},
		{"404", func() {
			updateClusterProfile(t, p.Name, func(p *configv1beta1.ClusterProfile) { p.Spec.KustomizationRefs[0].Path = "overlays/prod" })
			server.Set([]byte("gone"), http.StatusNotFound)
		}, []string{"kustomizationRefs[0].remoteURL", url, "404 Not Found"}},
	} {
		bad.change()
		waitSummary(t, p.Name, "app-1", featureFailedWith(libv1beta1.FeatureKustomize, bad.want...))
		waitEvent(t, "fleet", summary, "DeployFailed", bad.want[len(bad.want)-1])
		if err := deployed("prod-v2")(); err != nil {
			t.Errorf("%s: the last good content was not kept: %v", bad.name, err)
		}
	}
}
