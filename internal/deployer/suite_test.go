package deployer_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"managed"}}, &env))
}

// requestLog records the requests a client sends that are not reads.
type requestLog struct {
	mu     sync.Mutex
	writes []string // "METHOD path?query"
}

func (l *requestLog) RoundTrip(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			l.mu.Lock()
			l.writes = append(l.writes, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
			l.mu.Unlock()
		}
		return next.RoundTrip(req)
	})
}

// Reset forgets what was recorded so far.
func (l *requestLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = nil
}

// Writes returns the non-read requests recorded since the last Reset.
func (l *requestLog) Writes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.writes...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// newClient is a live client for the managed cluster whose non-read requests are
// recorded in the returned log.
func newClient(t *testing.T) (client.Client, *requestLog) {
	t.Helper()
	log := &requestLog{}
	return clientThrough(t, log.RoundTrip), log
}

// clientThrough is a live client for the managed cluster whose requests pass
// through wraps (each wraps the transport, as rest.Config.Wrap does).
func clientThrough(t *testing.T, wraps ...func(http.RoundTripper) http.RoundTripper) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Cluster("managed").Config)
	for _, w := range wraps {
		cfg.Wrap(w)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// uniqueName is a DNS label unique to this test run, derived from the test name.
func uniqueName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	base := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	return base + "-" + hex.EncodeToString(b)
}

// obj decodes a YAML manifest; format arguments are substituted first.
func obj(t *testing.T, manifest string, args ...any) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(fmt.Sprintf(manifest, args...)), &u.Object); err != nil {
		t.Fatalf("decoding manifest: %v\n%s", err, manifest)
	}
	return u
}

// invalidService is a Service named bad that the API server refuses (its port
// is out of range).
func invalidService(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	return obj(t, `{apiVersion: v1, kind: Service, metadata: {name: bad, namespace: %s}, spec: {ports: [{port: 70000}]}}`, ns)
}

func configMap(t *testing.T, ns, name, value string) *unstructured.Unstructured {
	t.Helper()
	return obj(t, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
data:
  key: %q
`, name, ns, value)
}

func fromSource(name string, objs ...*unstructured.Unstructured) []deployer.Desired {
	out := make([]deployer.Desired, len(objs))
	for i, o := range objs {
		out[i] = deployer.Desired{Object: o, Source: deployer.Source{Kind: "ConfigMap", Namespace: "mgmt", Name: name}}
	}
	return out
}

func profile(name string, tier int32) deployer.Owner {
	return deployer.Owner{Kind: "ClusterProfile", Name: name, Tier: tier}
}

func request(owner deployer.Owner, objs ...deployer.Desired) deployer.Request {
	return deployer.Request{Owner: owner, Feature: libv1beta1.FeatureResources, Objects: objs}
}

// get reads an object (same kind as like) from the cluster; nil when missing.
func get(t *testing.T, c client.Client, like *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(like.GroupVersionKind())
	err := c.Get(context.Background(), client.ObjectKeyFromObject(like), u)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustApply(t *testing.T, c client.Client, req deployer.Request) deployer.Result {
	t.Helper()
	res, err := (&deployer.Deployer{}).Apply(context.Background(), c, req)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

func refs(objs ...*unstructured.Unstructured) []deployer.ObjectRef {
	out := make([]deployer.ObjectRef, len(objs))
	for i, o := range objs {
		out[i] = deployer.RefOf(o)
	}
	return out
}

func unstructuredString(u *unstructured.Unstructured, fields ...string) (string, bool, error) {
	if u == nil {
		return "", false, nil
	}
	return unstructured.NestedString(u.Object, fields...)
}
