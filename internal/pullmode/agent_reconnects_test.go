package pullmode_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// When the agent stops, a request through the cluster's configuration fails
// with an error naming the cluster; when an agent connects again, the same
// configuration works again, and Subscribe saw the disconnection and the
// reconnection.
func TestAgentReconnects(t *testing.T) {
	ctx := context.Background()
	// A name of its own at each run: the package's hub remembers when each
	// cluster's agent last connected, and this test starts from "never".
	name := fmt.Sprintf("edge-%d", time.Now().UnixNano())
	token := registerPullCluster(t, "reconnect", name, true)
	id := libv1beta1.SveltosClusterID("reconnect", name)
	var mu sync.Mutex
	var seen []bool
	hub.Subscribe(func(cluster libv1beta1.ClusterID, connected bool) {
		if cluster == id {
			mu.Lock()
			seen = append(seen, connected)
			mu.Unlock()
		}
	})
	// connectedDisconnectedConnected accepts what Subscribe reported: a
	// connection first, a disconnection later, a connection last.
	connectedDisconnectedConnected := func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) < 3 || !seen[0] || !seen[len(seen)-1] || !slices.Contains(seen, false) {
			return fmt.Errorf("saw %v", seen)
		}
		return nil
	}
	cs, err := kubernetes.NewForConfig(hub.RESTConfig(id))
	if err != nil {
		t.Fatal(err)
	}
	namespaces := func() error {
		_, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		return err
	}

	if err := namespaces(); err == nil || !strings.Contains(err.Error(), "the agent of pull-mode cluster reconnect/"+name+" is not connected (last connected never)") {
		t.Fatalf("before any agent: got %v, want the never-connected error", err)
	}
	first := startAgent(t, "reconnect", name, token)
	testenv.Eventually(t, "requests through the first agent", namespaces)
	first.stop()
	testenv.Eventually(t, "the stopped agent is reported", func() error {
		err := namespaces()
		if err == nil || !strings.Contains(err.Error(), "the agent of pull-mode cluster reconnect/"+name+" is not connected (last connected 2") {
			return fmt.Errorf("got %v", err)
		}
		return nil
	})
	startAgent(t, "reconnect", name, token)
	testenv.Eventually(t, "requests through the second agent", namespaces)
	testenv.Eventually(t, "Subscribe saw connect, disconnect, connect", connectedDisconnectedConnected)
}
