package deployer_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
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
	cfg := rest.CopyConfig(env.Cluster("managed").Config)
	cfg.Wrap(p.RoundTrip)
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The namespaced objects between two objects that must go alone are applied
// concurrently, withdrawn concurrently, and reported in the order given.
func TestApplyAndWithdrawSendASegmentConcurrently(t *testing.T) {
	ns := uniqueName(t)
	var objs []*unstructured.Unstructured
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		objs = append(objs, configMap(t, ns, n, "v1"))
	}
	applies := newPairing(http.MethodPatch)
	res, err := (&deployer.Deployer{}).Apply(context.Background(), pairingClient(t, applies), request(profile("cp", 0), fromSource("src", objs...)...))
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
