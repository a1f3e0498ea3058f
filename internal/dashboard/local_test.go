package dashboard_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// localUsers are ServiceAccounts of the management cluster and their rights,
// made once for the tests of the local dashboard.
type localUsers struct {
	// reader may get, list and watch every kind of Tugboat's groups, and
	// read Secrets everywhere (the pages must show none of them).
	reader *rest.Config
	// partial may read everything reader may but ClusterSummaries.
	partial *rest.Config
	// nobody has no rights at all.
	nobody *rest.Config
}

var sharedLocalUsers *localUsers

// makeLocalUsers creates the ServiceAccounts, their RBAC and client
// configurations holding a token of each (no client certificate: the API
// server knows the user by the token alone).
func makeLocalUsers(t *testing.T) *localUsers {
	t.Helper()
	if sharedLocalUsers != nil {
		return sharedLocalUsers
	}
	ctx := context.Background()
	create := func(obj client.Object) {
		t.Helper()
		if err := mgmt.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	const ns = "local-users"
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	tugboat := []string{"lib.projectsveltos.io", "config.projectsveltos.io", "scheduler.kalypso.io"}
	read := []string{"get", "list", "watch"}
	roles := map[string][]rbacv1.PolicyRule{
		"reader": {
			{APIGroups: tugboat, Resources: []string{"*"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: read},
		},
		"partial": {
			{APIGroups: []string{"lib.projectsveltos.io", "scheduler.kalypso.io"}, Resources: []string{"*"}, Verbs: read},
			{APIGroups: []string{"config.projectsveltos.io"}, Resources: []string{"clusterprofiles", "profiles"}, Verbs: read},
		},
		"nobody": nil,
	}
	configs := map[string]*rest.Config{}
	for name, rules := range roles {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		create(sa)
		if rules != nil {
			role := "local-dashboard-" + name
			create(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role}, Rules: rules})
			create(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}}})
		}
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
		if err := mgmt.SubResource("token").Create(ctx, sa, tr); err != nil {
			t.Fatalf("a token for %s: %v", name, err)
		}
		cfg := rest.AnonymousClientConfig(env.Management().Config)
		cfg.BearerToken = tr.Status.Token
		configs[name] = cfg
	}
	sharedLocalUsers = &localUsers{reader: configs["reader"], partial: configs["partial"], nobody: configs["nobody"]}
	return sharedLocalUsers
}

// serveLocal serves the local dashboard as the user of cfg, as `tug
// dashboard` does, until the test ends; it returns its URL.
func serveLocal(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- dashboard.Local{Config: cfg, Address: "127.0.0.1:0", PageSize: 20}.Serve(ctx, func(u string) { urls <- u })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the local dashboard ended with: %v", err)
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		done <- err
		t.Fatalf("the local dashboard did not start: %v", err)
	}
	return ""
}

// localGet fetches a page of the local dashboard (no login) and returns its
// status, its visible text and its HTML.
func localGet(t *testing.T, base, path string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, visible(string(raw)), string(raw)
}

// `tug dashboard`'s server reads as the user of the kubeconfig it is given:
// a user who may read Tugboat's kinds sees the fleet, the profiles and the
// failure text of a summary; a user who may not read ClusterSummaries sees
// the clusters and profiles, and each page says the summaries were left out
// as forbidden; a user without rights sees no cluster or profile, on pages
// that still answer 200 and say what was forbidden. None of the pages shows
// the data of the cluster's kubeconfig Secret, though the reader may read it.
func TestLocalReadsAsTheUser(t *testing.T) {
	f := setup(t)
	users := makeLocalUsers(t)
	// The manager's own dashboard has what the pages show: the objects exist.
	eventuallyShows(t, "/profiles/ClusterProfile/dash-broken", f.failure)

	reader := serveLocal(t, users.reader)
	pages := []string{"/clusters", "/clusters/fleet/app", "/profiles", "/profiles/ClusterProfile/dash-broken",
		"/explain?profile=ClusterProfile/dash-web&cluster=fleet/app", "/events", "/environments"}
	// RBAC takes a moment to reach the authorizer.
	testenv.Eventually(t, "the reader sees the fleet", func() error {
		if status, text, _ := localGet(t, reader, "/clusters"); status != http.StatusOK || !strings.Contains(text, "fleet/app SveltosCluster ready") {
			return fmt.Errorf("%d: %s", status, text)
		}
		return nil
	})
	secretData := kubeconfigSecretData(t)
	for _, path := range pages {
		status, text, raw := localGet(t, reader, path)
		if status != http.StatusOK || strings.Contains(text, "forbidden") {
			t.Errorf("the reader's %s: %d: %s", path, status, text)
		}
		for _, secret := range secretData {
			if strings.Contains(raw, secret) {
				t.Errorf("the reader's %s shows data of the kubeconfig Secret", path)
			}
		}
	}
	if _, text, _ := localGet(t, reader, "/profiles/ClusterProfile/dash-broken"); !strings.Contains(text, f.failure) {
		t.Errorf("the reader's profile page lacks the failure %q: %s", f.failure, text)
	}
	// The objects deployed in the cluster are read with the kubeconfig
	// Secret the reader may read: listed, the Secret's data shown nowhere
	// (checked above on every page).
	if _, text, _ := localGet(t, reader, "/clusters/fleet/app"); !strings.Contains(text, "ConfigMap default/ok Resources ClusterProfile/dash-ok") {
		t.Errorf("the reader's cluster page lacks the deployed ConfigMap: %s", text)
	}
	if _, text, _ := localGet(t, reader, "/explain?profile=ClusterProfile/dash-web&cluster=fleet/app"); !strings.Contains(text, "cluster has no label type") {
		t.Errorf("the reader's explanation: %s", text)
	}

	partial := serveLocal(t, users.partial)
	testenv.Eventually(t, "the partial reader sees the clusters, not the summaries", func() error {
		status, text, _ := localGet(t, partial, "/clusters")
		if status != http.StatusOK || !strings.Contains(text, "fleet/app SveltosCluster ready") ||
			!strings.Contains(text, "left out: listing ClusterSummaries: clustersummaries.config.projectsveltos.io is forbidden") {
			return fmt.Errorf("%d: %s", status, text)
		}
		return nil
	})
	// Each page shows what it read besides the summaries.
	for path, want := range map[string]string{"/clusters/fleet/app": "env=prod", "/profiles": "dash-broken", "/profiles/ClusterProfile/dash-broken": "env=prod"} {
		status, text, _ := localGet(t, partial, path)
		if status != http.StatusOK || !strings.Contains(text, "left out: listing ClusterSummaries: clustersummaries.config.projectsveltos.io is forbidden") ||
			!strings.Contains(text, want) {
			t.Errorf("the partial reader's %s: %d: %s", path, status, text)
		}
	}
	for _, path := range []string{"/clusters/fleet/app", "/profiles"} {
		if _, text, _ := localGet(t, partial, path); strings.Contains(text, f.failure) {
			t.Errorf("the partial reader's %s shows a summary's failure: %s", path, text)
		}
	}

	nobody := serveLocal(t, users.nobody)
	for _, path := range pages {
		status, text, _ := localGet(t, nobody, path)
		// Pages about one object are titled with what was asked for;
		// nothing read from the cluster may show.
		hidden := []string{"SveltosCluster ready", "env=prod", "dash-ok", f.failure, "dash-trigger", "dash-dev"}
		if !strings.Contains(path, "fleet/app") && !strings.Contains(path, "dash-") {
			hidden = append(hidden, "fleet/app", "dash-broken", "dash-web")
		}
		if status != http.StatusOK || !strings.Contains(text, `is forbidden: User "system:serviceaccount:local-users:nobody" cannot`) {
			t.Errorf("a user without rights, %s: %d: %s", path, status, text)
		}
		for _, h := range hidden {
			if strings.Contains(text, h) {
				t.Errorf("a user without rights sees %q on %s: %s", h, path, text)
			}
		}
	}
}

// kubeconfigSecretData is what the app cluster's kubeconfig Secret holds that
// no page may show: its client key and certificate, as the Secret stores them
// (base64 in the kubeconfig) and decoded.
func kubeconfigSecretData(t *testing.T) []string {
	t.Helper()
	kc, err := clientcmd.Load(env.Cluster("app").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range kc.AuthInfos {
		for _, data := range [][]byte{a.ClientKeyData, a.ClientCertificateData} {
			if len(data) > 0 {
				out = append(out, base64.StdEncoding.EncodeToString(data)[:60], string(data[30:90]))
			}
		}
		if a.Token != "" {
			out = append(out, a.Token)
		}
	}
	if len(out) == 0 {
		t.Fatal(errors.New("the app cluster's kubeconfig has no credentials to look for"))
	}
	return out
}
