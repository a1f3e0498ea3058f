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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Nobody reads the fleet without the token: no token or a wrong one answers
// 401 with the login form (the event stream too); the token as a bearer
// token, or the session cookie the login form sets, shows the pages. The
// login form refuses a wrong token and goes on to the page asked for with the
// right one. Rotating the token in its Secret ends the session.
func TestLogin(t *testing.T) {
	setup(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fetch := func(c *http.Client, method, path, auth string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, baseURL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, visible(string(raw))
	}

	for _, tc := range []struct{ name, path, auth string }{
		{"no token", "/clusters", ""},
		{"wrong token", "/clusters", "Bearer " + strings.Repeat("0", len(token))},
		{"not a bearer token", "/profiles", "Basic " + token},
		{"a page deeper", "/clusters/fleet/app", ""},
		{"the event stream", "/updates", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, text := fetch(noRedirect, http.MethodGet, tc.path, tc.auth, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("GET %s: %d: %s", tc.path, resp.StatusCode, text)
			}
			if strings.Contains(text, "fleet/app") || strings.Contains(text, "env=prod") {
				t.Errorf("a 401 shows the fleet: %s", text)
			}
			if tc.path != "/updates" && !strings.Contains(text, "Paste the dashboard's token") {
				t.Errorf("no login form: %s", text)
			}
		})
	}
	if resp, text := fetch(noRedirect, http.MethodGet, "/clusters", "Bearer "+token, nil); resp.StatusCode != http.StatusOK || !strings.Contains(text, "fleet/app") {
		t.Errorf("with the token: %d: %s", resp.StatusCode, text)
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	resp, text := fetch(browser, http.MethodPost, "/login", "", url.Values{"token": {"guess"}, "next": {"/profiles"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "Wrong token.") || len(resp.Cookies()) != 0 {
		t.Errorf("a wrong token at the login form: %d, cookies %v: %s", resp.StatusCode, resp.Cookies(), text)
	}
	resp, _ = fetch(browser, http.MethodPost, "/login", "", url.Values{"token": {token}, "next": {"/profiles"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/profiles" {
		t.Fatalf("the right token at the login form: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := resp.Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || strings.Contains(cookie.Value, token) {
		t.Errorf("session cookie %+v", cookie)
	}
	if resp, text := fetch(browser, http.MethodGet, "/profiles", "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(text, "dash-broken") {
		t.Errorf("with the session cookie: %d: %s", resp.StatusCode, text)
	}
	if resp, _ := fetch(noRedirect, http.MethodPost, "/login", "", url.Values{"token": {token}, "next": {"//evil.example.com/"}}); resp.Header.Get("Location") != "/clusters" {
		t.Errorf("login sent the browser to %q, want only paths of the dashboard", resp.Header.Get("Location"))
	}

	// Rotating the token ends the session (once the manager's cache has the new one).
	ctx := context.Background()
	key := types.NamespacedName{Namespace: "projectsveltos", Name: dashboard.DefaultTokenSecretName}
	secret := &corev1.Secret{}
	if err := mgmt.Get(ctx, key, secret); err != nil {
		t.Fatal(err)
	}
	old := token
	secret.Data[dashboard.TokenKey] = []byte(strings.Repeat("r", 48))
	if err := mgmt.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	token = strings.Repeat("r", 48)
	t.Cleanup(func() {
		secret.Data[dashboard.TokenKey] = []byte(old)
		if err := mgmt.Update(ctx, secret); err != nil {
			t.Error(err)
		}
		token = old
		eventuallyShows(t, "/clusters", "fleet/app")
	})
	testenv.Eventually(t, "the old session refused", func() error {
		if resp, text := fetch(browser, http.MethodGet, "/profiles", "", nil); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "Your session ended") {
			return fmt.Errorf("status %d: %s", resp.StatusCode, text)
		}
		return nil
	})
}
