package pullmode_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/pullmode"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A replica that does not lead serves the hub with the CA every replica
// shares (agents trust it), but answers 503 so that the agent connects again,
// until it leads.
func TestHubFollowerRefusesAgents(t *testing.T) {
	token := registerPullCluster(t, "follower", "edge-3", true)
	elected := make(chan struct{})
	follower := &pullmode.Hub{Client: testenv.ClusterClient(t, env, "mgmt"), Elected: elected,
		Options: pullmode.HubOptions{Address: "127.0.0.1:0", Namespace: managerNamespace}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = follower.Start(ctx)
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	testenv.Eventually(t, "the follower listens", func() error {
		if follower.Addr() == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	url := "https://" + follower.Addr().String()
	if status, body := connectOnceTo(t, url, "follower", "edge-3", token); status != http.StatusServiceUnavailable || !strings.Contains(body, "not the leader") {
		t.Fatalf("a follower: got %d %q, want 503 saying it is not the leader", status, body)
	}
	close(elected)
	if status, body := connectOnceTo(t, url, "follower", "edge-3", token); status != http.StatusSwitchingProtocols {
		t.Fatalf("once it leads: got %d %q, want 101", status, body)
	}
}
