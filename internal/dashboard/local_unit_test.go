package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The local dashboard, served without a login, listens on loopback only and
// answers only requests addressed to loopback (a page asked for under
// another name, as DNS rebinding would, is refused).
func TestUnitLocalLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		address string
		err     string
	}{
		{"127.0.0.1:0", ""},
		{"[::1]:8080", ""},
		{"localhost:8080", ""},
		{"0.0.0.0:8080", "loopback only"},
		{":8080", "loopback only"},
		{"10.0.0.1:8080", "loopback only"},
	} {
		err := Options{Address: tc.address, Auth: AuthNone}.Check()
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.address, err, tc.err)
		}
	}
	s := &Server{Options: Options{Address: "127.0.0.1:0", Auth: AuthNone}}
	for host, want := range map[string]int{
		"127.0.0.1:1234": http.StatusFound, "localhost:1234": http.StatusFound, "[::1]:1234": http.StatusFound,
		"evil.example:1234": http.StatusForbidden, "10.0.0.1:1234": http.StatusForbidden,
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("a request for host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

// No page can read a Secret: the reader pages go through refuses to.
func TestUnitPagesReadNoSecrets(t *testing.T) {
	r := noSecrets{reader: failingReader{}}
	ctx := context.Background()
	if err := r.Get(ctx, types.NamespacedName{Namespace: "ns", Name: "s"}, &corev1.Secret{}); !errors.Is(err, errSecrets) {
		t.Errorf("reading a Secret: %v", err)
	}
	if err := r.List(ctx, &corev1.SecretList{}); !errors.Is(err, errSecrets) {
		t.Errorf("listing Secrets: %v", err)
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: "ns", Name: "c"}, &corev1.ConfigMap{}); !errors.Is(err, errRead) {
		t.Errorf("reading a ConfigMap: %v", err)
	}
}

var errRead = errors.New("read through")

// failingReader stands for the reader behind: it says it was asked.
type failingReader struct{}

func (failingReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errRead
}

func (failingReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errRead
}
