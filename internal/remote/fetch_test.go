package remote_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/remote"
)

// Fetch refuses plain http unless plainHTTP says so and other schemes always;
// it reads a 200 body, names the URL and the status otherwise, refuses an
// untrusted certificate unless insecureSkipTLSVerify, and the interval bounds
// the default and the timeout.
func TestFetch(t *testing.T) {
	ctx := context.Background()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("kind: ConfigMap\n"))
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(handler)
	defer tlsSrv.Close()

	for _, tc := range []struct {
		name string
		ref  libv1beta1.RemoteURL
		want string // body, or a part of the error
		ok   bool
	}{
		{"plain http refused", libv1beta1.RemoteURL{URL: plain.URL + "/app.yaml"}, "set plainHTTP", false},
		{"plain http allowed", libv1beta1.RemoteURL{URL: plain.URL + "/app.yaml", PlainHTTP: true}, "kind: ConfigMap\n", true},
		{"other scheme", libv1beta1.RemoteURL{URL: "ftp://example.com/app.yaml"}, `scheme "ftp"`, false},
		{"404", libv1beta1.RemoteURL{URL: plain.URL + "/missing", PlainHTTP: true}, "GET " + plain.URL + "/missing: 404 Not Found", false},
		{"untrusted certificate", libv1beta1.RemoteURL{URL: tlsSrv.URL + "/app.yaml"}, "certificate", false},
		{"insecureSkipTLSVerify", libv1beta1.RemoteURL{URL: tlsSrv.URL + "/app.yaml", InsecureSkipTLSVerify: true}, "kind: ConfigMap\n", true},
	} {
		body, err := remote.Fetch(ctx, nil, tc.ref, "default")
		switch {
		case tc.ok && (err != nil || string(body) != tc.want):
			t.Errorf("%s: body %q, error %v; want %q", tc.name, body, err, tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}

	if got := remote.Interval(libv1beta1.RemoteURL{}); got != remote.DefaultInterval {
		t.Errorf("default interval %s", got)
	}
	if got := remote.Timeout(libv1beta1.RemoteURL{Interval: &metav1.Duration{Duration: time.Hour}}); got != remote.MaxTimeout {
		t.Errorf("timeout for a 1h interval %s, want %s", got, remote.MaxTimeout)
	}
}
