package profiles_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// requestRecorder remembers the requests a counted cluster received.
type requestRecorder struct {
	mu       sync.Mutex
	requests []*http.Request
}

func (r *requestRecorder) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
}

// reset forgets what was recorded so far.
func (r *requestRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = nil
}

// ownedLists are the list requests selecting objects by the feature label
// (deployer.OwnedObjects), as "GET path?labelSelector".
func (r *requestRecorder) ownedLists() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.requests {
		q := req.URL.Query()
		if req.Method == http.MethodGet && q.Get("watch") != "true" && strings.Contains(q.Get("labelSelector"), libv1beta1.ReasonLabel) {
			out = append(out, req.Method+" "+req.URL.Path+"?"+q.Get("labelSelector"))
		}
	}
	return out
}

// in are the requests for objects in namespace ns, as "METHOD path".
func (r *requestRecorder) in(ns string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.requests {
		if strings.Contains(req.URL.Path, "/namespaces/"+ns+"/") && req.URL.Query().Get("watch") != "true" {
			out = append(out, req.Method+" "+req.URL.Path)
		}
	}
	return out
}

// countedCluster registers SveltosCluster fleet/name reaching the API server of
// the managed cluster behind through a recording reverse proxy (the proxy
// authenticates to the API server as the test harness does), labelled with
// labels; it is removed at the end of the test. The manager's requests to the
// cluster can then be counted without touching the manager.
func countedCluster(t *testing.T, name, behind string, labels map[string]string) *requestRecorder {
	t.Helper()
	upstream, err := url.Parse(env.Cluster(behind).URL)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(env.Cluster(behind).Config)
	if err != nil {
		t.Fatal(err)
	}
	rec := &requestRecorder{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Header.Del("Authorization")
		},
		Transport:     transport,
		FlushInterval: -1, // watches stream
	}
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec.add(req.Clone(context.Background()))
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(server.Close)

	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters[name] = &clientcmdapi.Cluster{Server: server.URL,
		CertificateAuthorityData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})}
	kubeconfig.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "the-proxy-authenticates"}
	kubeconfig.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	kubeconfig.CurrentContext = name
	raw, err := clientcmd.Write(*kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "fleet", Name: name, Kubeconfig: raw, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		key := types.NamespacedName{Namespace: "fleet", Name: name}
		if err := mgmt.Delete(ctx, &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); client.IgnoreNotFound(err) != nil {
			t.Error(err)
		}
		testenv.Eventually(t, "SveltosCluster "+key.String()+" gone", func() error {
			return notFound(mgmt, &libv1beta1.SveltosCluster{}, key)
		})
	})
	return rec
}

// deleteProfileAtEnd deletes ClusterProfile name at the end of the test and
// waits until it is gone (before the test's counted clusters go).
func deleteProfileAtEnd(t *testing.T, name string) {
	t.Helper()
	t.Cleanup(func() {
		ctx := context.Background()
		if err := mgmt.Delete(ctx, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}); client.IgnoreNotFound(err) != nil {
			t.Error(err)
		}
		testenv.Eventually(t, "ClusterProfile "+name+" gone", func() error {
			return notFound(mgmt, &configv1beta1.ClusterProfile{}, types.NamespacedName{Name: name})
		})
	})
}

// deletePoliciesAtEnd deletes the named policy ConfigMaps (default namespace of
// the management cluster) at the end of the test, so that it can run again.
func deletePoliciesAtEnd(t *testing.T, names ...string) {
	t.Helper()
	t.Cleanup(func() {
		for _, name := range names {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
			if err := mgmt.Delete(context.Background(), cm); client.IgnoreNotFound(err) != nil {
				t.Error(err)
			}
		}
	})
}
