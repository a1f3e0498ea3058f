package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// In the kubernetes mode the dashboard is read as the user: a ServiceAccount
// allowed to list Tugboat's kinds sees the fleet, one without rights sees
// nothing of it (and is told so), an invalid token is refused; the event
// stream is only for users who may list something the pages show. The login
// form keeps the user on the server: the cookie does not hold the token.
func TestKubernetesAuth(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dashboard-users"}}
	create := func(obj client.Object) {
		t.Helper()
		if err := mgmt.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	create(ns)
	reader := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "reader"}}
	nobody := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "nobody"}}
	create(reader)
	create(nobody)
	create(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "dashboard-test-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"lib.projectsveltos.io", "config.projectsveltos.io", "scheduler.kalypso.io"},
			Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}}})
	create(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dashboard-test-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "dashboard-test-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns.Name, Name: reader.Name}}})
	tokenOf := func(sa *corev1.ServiceAccount) string {
		t.Helper()
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}
		if err := mgmt.SubResource("token").Create(ctx, sa, tr); err != nil {
			t.Fatalf("a token for %s: %v", sa.Name, err)
		}
		return tr.Status.Token
	}
	readerToken, nobodyToken := tokenOf(reader), tokenOf(nobody)

	board := &dashboard.Server{Fleet: clusters.Fleet{Reader: mgmt}, Client: mgmt,
		Options: dashboard.Options{Address: "127.0.0.1:0", Auth: dashboard.AuthKubernetes}}
	done := make(chan error, 1)
	go func() { done <- board.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	testenv.Eventually(t, "the dashboard listening", func() error {
		if board.Addr() == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	base := "http://" + board.Addr().String()

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(c *http.Client, path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if path == "/updates" {
			// The stream does not end: its status is the answer.
			stream, stop := context.WithTimeout(ctx, 30*time.Second)
			defer stop()
			req = req.WithContext(stream)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if path == "/updates" && resp.StatusCode == http.StatusOK {
			return resp.StatusCode, ""
		}
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, visible(string(raw))
	}

	// RBAC takes a moment to reach the authorizer.
	testenv.Eventually(t, "the reader sees the fleet", func() error {
		if status, text := get(noRedirect, "/clusters", readerToken); status != http.StatusOK || !strings.Contains(text, "fleet/app") {
			return fmt.Errorf("%d: %s", status, text)
		}
		return nil
	})
	if status, text := get(noRedirect, "/profiles", readerToken); status != http.StatusOK || !strings.Contains(text, "dash-broken") {
		t.Errorf("the reader's profiles: %d: %s", status, text)
	}
	for _, path := range []string{"/clusters", "/profiles", "/events", "/clusters/fleet/app"} {
		status, text := get(noRedirect, path, nobodyToken)
		// A cluster's page is titled with the name asked for, nothing more.
		shown := strings.ReplaceAll(text, "Cluster fleet/app", "")
		if status != http.StatusOK || strings.Contains(shown, "fleet/app") || strings.Contains(text, "dash-broken") ||
			!strings.Contains(text, "system:serviceaccount:dashboard-users:nobody is not allowed to") {
			t.Errorf("a token without rights, %s: %d: %s", path, status, text)
		}
	}
	if status, text := get(noRedirect, "/clusters", "not-a-token"); status != http.StatusUnauthorized || strings.Contains(text, "fleet/app") {
		t.Errorf("an invalid token: %d: %s", status, text)
	}
	if status, _ := get(noRedirect, "/updates", readerToken); status != http.StatusOK {
		t.Errorf("the reader's event stream: %d", status)
	}
	if status, text := get(noRedirect, "/updates", nobodyToken); status != http.StatusForbidden {
		t.Errorf("the event stream without rights: %d: %s", status, text)
	}
	if status, _ := get(noRedirect, "/updates", "not-a-token"); status != http.StatusUnauthorized {
		t.Errorf("the event stream with an invalid token: %d", status)
	}

	// The login form: an invalid token is refused, a valid one starts a
	// session whose cookie is not the token.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	post := func(token string) *http.Response {
		t.Helper()
		resp, err := browser.PostForm(base+"/login", url.Values{"token": {token}, "next": {"/clusters"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("not-a-token"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("logging in with an invalid token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp := post(nobodyToken)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || strings.Contains(resp.Cookies()[0].Value, nobodyToken[:20]) {
		t.Fatalf("logging in: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	if status, text := get(browser, "/clusters", ""); status != http.StatusOK || strings.Contains(text, "fleet/app") || !strings.Contains(text, "not allowed to list") {
		t.Errorf("the session of a user without rights: %d: %s", status, text)
	}
	jar, _ = cookiejar.New(nil)
	browser.Jar = jar
	post(readerToken)
	if status, text := get(browser, "/clusters", ""); status != http.StatusOK || !strings.Contains(text, "fleet/app") {
		t.Errorf("the reader's session: %d: %s", status, text)
	}
}
