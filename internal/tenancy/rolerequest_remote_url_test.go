package tenancy_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

func remoteClusterRole(name, resource string) string {
	return "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + name +
		"\nrules:\n- apiGroups: [\"\"]\n  resources: [\"" + resource + "\"]\n  verbs: [\"get\", \"list\"]\n"
}

// TestRoleRequestRemoteURL: a roleRef with remoteURL takes its roles from a
// real HTTPS server (its own CA through the Secret's ca.crt, a bearer token
// from the same Secret, found in the cluster's namespace since secretRef has
// none): the role is granted in the selected cluster with its binding; a new
// body at the next fetch replaces it (the role no longer served goes); a 404
// fails the grant naming the ref and the URL (status and Event) and what was
// granted stays.
func TestRoleRequestRemoteURL(t *testing.T) {
	ctx := context.Background()
	server := &testenv.ContentServer{Authorized: testenv.BearerToken("roles-token")}
	srv := httptest.NewTLSServer(server)
	t.Cleanup(srv.Close)
	server.Set([]byte(remoteClusterRole("remote-read-nodes", "nodes")), http.StatusOK)
	create(t, mgmt, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "roles-server"},
		Data: map[string][]byte{
			"token":  []byte("roles-token"),
			"ca.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		},
	})
	url := srv.URL + "/roles.yaml"
	rr := &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: "remote-roles"}, Spec: libv1beta1.RoleRequestSpec{
		ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"remote-roles": "granted"}}},
		RoleRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Name: "remote-roles", RemoteURL: &libv1beta1.RemoteURL{
			URL: url, Interval: &metav1.Duration{Duration: time.Second},
			SecretRef: &corev1.SecretReference{Name: "roles-server"},
		}}},
		ServiceAccountNamespace: "team-a", ServiceAccountName: "remote",
	}}
	create(t, mgmt, rr)
	setClusterLabels(t, "team-a", "a1", map[string]string{"remote-roles": "granted"})
	t.Cleanup(func() {
		_ = mgmt.Delete(ctx, rr)
		setClusterLabels(t, "team-a", "a1", map[string]string{"remote-roles": ""})
		testenv.Eventually(t, "the RoleRequest gone", func() error {
			return gone(ctx, mgmt, &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: rr.Name}})
		})
		_ = mgmt.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "roles-server"}})
	})

	granted := func(name string) func() error {
		return func() error {
			for _, o := range []client.Object{
				&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}},
				&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}},
			} {
				if err := a1.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
					return err
				}
				if got := o.GetLabels()[libv1beta1.RoleRequestLabel]; got != rr.Name {
					return fmt.Errorf("%T %s labelled %s=%q", o, name, libv1beta1.RoleRequestLabel, got)
				}
			}
			return nil
		}
	}
	testenv.Eventually(t, "the fetched role granted in a1", granted("remote-read-nodes"))

	server.Set([]byte(remoteClusterRole("remote-read-pods", "pods")), http.StatusOK)
	testenv.Eventually(t, "the new body granted at the next fetch", granted("remote-read-pods"))
	testenv.Eventually(t, "the role no longer served withdrawn", func() error {
		return gone(ctx, a1, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "remote-read-nodes"}})
	})

	server.Set([]byte("gone"), http.StatusNotFound)
	waitClusterFailure(t, rr.Name, "a1", "roleRefs[0].remoteURL: GET "+url+": 404 Not Found", true)
	if err := granted("remote-read-pods")(); err != nil {
		t.Errorf("what was granted did not stay: %v", err)
	}
}
