package deployer_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// pairing holds the first request of a method until a second one of the same
// method is in flight (or until patience runs out), and records the most requests
// of that method ever in flight at once: a deployer that sends one at a time sees
// every request wait out the patience and leaves maxInFlight at 1.
type pairing struct {
	method   string
	patience time.Duration

	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	second      chan struct{}
}

func newPairing(method string) *pairing {
	return &pairing{method: method, patience: 20 * time.Second, second: make(chan struct{})}
}

func (p *pairing) RoundTrip(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != p.method {
			return next.RoundTrip(req)
		}
		p.mu.Lock()
		p.inFlight++
		p.maxInFlight = max(p.maxInFlight, p.inFlight)
		first := p.maxInFlight == 1
		if p.inFlight == 2 {
			select {
			case <-p.second:
			default:
				close(p.second)
			}
		}
		p.mu.Unlock()
		if first {
			select {
			case <-p.second:
			case <-time.After(p.patience):
			}
		}
		defer func() { p.mu.Lock(); p.inFlight--; p.mu.Unlock() }()
		return next.RoundTrip(req)
	})
}

func (p *pairing) max() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxInFlight
}

func pairingClient(t *testing.T, p *pairing) client.Client {
	t.Helper()
	return clientThrough(t, p.RoundTrip)
}

// The namespaced objects between two objects that must go alone are applied
// concurrently (with ContinueOnError: without it they go one by one, so that a
// failure stops what follows), withdrawn concurrently, and reported in the
// order given.
func TestApplyAndWithdrawSendASegmentConcurrently(t *testing.T) {
	ns := uniqueName(t)
	var objs []*unstructured.Unstructured
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		objs = append(objs, configMap(t, ns, n, "v1"))
	}
	applies := newPairing(http.MethodPatch)
	req := request(profile("cp", 0), fromSource("src", objs...)...)
	req.ContinueOnError = true
	res, err := (&deployer.Deployer{}).Apply(context.Background(), pairingClient(t, applies), req)
	if err != nil {
		t.Fatal(err)
	}
	if applies.max() < 2 {
		t.Errorf("applies in flight at once: at most %d, want several", applies.max())
	}
	var names []string
	for _, ref := range res.Deployed {
		names = append(names, ref.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,c,d,e,f" {
		t.Errorf("Deployed = %s, want the order given", got)
	}

	deletes := newPairing(http.MethodDelete)
	done, err := (&deployer.Deployer{}).Withdraw(context.Background(), pairingClient(t, deletes), profile("cp", 0), libv1beta1.FeatureResources, res.Deployed, false)
	if err != nil || len(done) != len(objs) {
		t.Fatalf("withdrawn %v, err %v", done, err)
	}
	if deletes.max() < 2 {
		t.Errorf("deletes in flight at once: at most %d, want several", deletes.max())
	}
	if done[0].Name != "f" {
		t.Errorf("withdrawn %v, want the last first", done)
	}
	c, _ := newClient(t)
	for _, o := range objs {
		if get(t, c, o) != nil {
			t.Errorf("%s still there after the withdrawal", o.GetName())
		}
	}
}

// A ServiceAccount (which Pods need at admission) and cluster-scoped objects go
// alone, in their place: when an object before them fails, they and everything
// after them are not applied; with Parallelism 1 nothing after the failing
// object is.
func TestApplySegmentsStopAtTheObjectsThatGoAlone(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	bad := invalidService(t, ns)
	sa := obj(t, "{apiVersion: v1, kind: ServiceAccount, metadata: {name: runner, namespace: %s}}", ns)
	after := configMap(t, ns, "after", "x")
	_, err := (&deployer.Deployer{}).Apply(context.Background(), c, request(profile("cp", 0), fromSource("src", bad, sa, after)...))
	if err == nil || !strings.Contains(err.Error(), "Service "+ns+"/bad") {
		t.Fatalf("err = %v", err)
	}
	if get(t, c, sa) != nil || get(t, c, after) != nil {
		t.Error("objects after the one going alone were applied after an earlier failure")
	}
}

// A custom resource after its CustomResourceDefinition in the same request:
// its kind is not served when the request is prepared, so it goes alone, after
// the CRD, and is prepared again then.
func TestApplyCustomResourceAfterItsDefinition(t *testing.T) {
	c, _ := newClient(t)
	ns := uniqueName(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	crd := obj(t, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.%s}
spec:
  group: %s
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`, group, group)
	cr := obj(t, "{apiVersion: %s/v1, kind: Widget, metadata: {name: w, namespace: %s}, spec: {size: 3}}", group, ns)
	before := configMap(t, ns, "before", "x")
	t.Cleanup(func() { _ = c.Delete(context.Background(), crd) })
	req := request(profile("cp", 0), fromSource("src", before, crd, cr)...)
	// The API server serves the new kind a moment after the CRD is created: the
	// first Apply may still find it unserved (the profile then tries again).
	testenv.Eventually(t, "the Widget applied with its definition", func() error {
		_, err := (&deployer.Deployer{}).Apply(context.Background(), c, req)
		return err
	})
	if get(t, c, cr) == nil || get(t, c, before) == nil {
		t.Error("the Widget or the ConfigMap before it is missing")
	}
}
