// Package browsertest drives the dashboard in a real browser for tests:
// Debian's headless Chromium over the DevTools protocol (go-rod). Only tests
// import it.
package browsertest

import (
	"context"
	"fmt"
	"html"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/dashboard"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
)

// Served waits until srv listens and returns its URL and the token it made
// in its token Secret (in namespace) for users to log in with.
func Served(ctx context.Context, srv *dashboard.Server, c client.Reader, namespace string) (baseURL, token string, err error) {
	for deadline := time.Now().Add(30 * time.Second); srv.Addr() == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return "", "", fmt.Errorf("the dashboard did not start")
		}
	}
	// No token Secret existed: the dashboard made one with a random token.
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: namespace, Name: dashboard.DefaultTokenSecretName}
	if err := c.Get(ctx, key, secret); err != nil {
		return "", "", fmt.Errorf("the dashboard's token Secret: %w", err)
	}
	if token = string(secret.Data[dashboard.TokenKey]); len(token) < 32 {
		return "", "", fmt.Errorf("the dashboard's token %q is too short", token)
	}
	return "http://" + srv.Addr().String(), token, nil
}

// Chromium is the path of Debian's chromium (hack/setup.sh installs it); the
// test skips, saying so, where it is missing.
func Chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium on PATH (Debian package chromium, installed by hack/setup.sh): the browser test cannot run here")
	}
	return path
}

// Browser starts headless Chromium; it stops when the test ends.
func Browser(t *testing.T) *rod.Browser {
	t.Helper()
	l := launcher.New().Bin(Chromium(t)).Headless(true).NoSandbox(true).Leakless(false).UserDataDir(t.TempDir()).
		Set("disable-gpu").Set("disable-dev-shm-usage").Set("no-first-run").Set("window-size", "1280,900")
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		l.Kill()
		t.Fatalf("connecting to chromium: %v", err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		l.Kill()
	})
	return b
}

// LogIn opens baseURL+path in a new tab, which shows the login form; it types
// token there and returns the tab once the form led back to path.
func LogIn(t *testing.T, b *rod.Browser, baseURL, path, token string) *rod.Page {
	t.Helper()
	page := b.MustPage(baseURL + path).Timeout(time.Minute)
	page.MustWaitLoad()
	if text := Visible(page.MustHTML()); !strings.Contains(text, "Paste the dashboard's token") {
		t.Fatalf("%s without logging in: %s", path, text)
	}
	page.MustElement("#token").MustInput(token)
	wait := page.MustWaitNavigation()
	page.MustElement("#login").MustClick()
	wait()
	page.MustWaitLoad()
	return page
}

// Content is the visible text of the page's content.
func Content(page *rod.Page) string {
	return Visible(page.MustElement("#content").MustHTML())
}

var (
	blocks = regexp.MustCompile(`(?is)<script.*?</script>|</?(td|th|tr|p|div|h\d|table|section|header|main|form|br|option|title|span)\b[^>]*>`)
	tags   = regexp.MustCompile(`<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// Visible is the text a reader sees in an HTML page: no tags (a block, a cell
// or a label is a space), entities decoded, runs of white space made one space.
func Visible(page string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(tags.ReplaceAllString(blocks.ReplaceAllString(page, " "), "")), " "))
}
