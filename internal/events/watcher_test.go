package events_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Triggers interested in the same kind of the same cluster share one event
// handler on one informer; a closed connection is replaced on the next Ensure;
// the handler goes when the last trigger lets go.
func TestWatchesAreSharedPerClusterAndKind(t *testing.T) {
	ctx := context.Background()
	registry := clusters.NewRegistry(clusters.RegistryOptions{Reader: mgmt, Scheme: api.NewScheme()})
	w := events.NewWatcher(registry, logr.Discard())
	services := types.NamespacedName{Namespace: fleetNamespace, Name: "services"}
	secrets := corev1.SchemeGroupVersion.WithKind("Secret")
	key := services.String() + " " + secrets.String()

	ensure := func(trigger string) {
		t.Helper()
		testenv.Eventually(t, "watch of "+trigger+" synced", func() error {
			synced, err := w.EnsureWatch(ctx, trigger, services, secrets)
			if err != nil {
				return err
			}
			if !synced {
				return fmt.Errorf("not synced yet")
			}
			return nil
		})
	}
	ensure("a")
	ensure("b")
	if got, want := w.Watched(), map[string][]string{key: {"a", "b"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("watched %v, want %v", got, want)
	}

	// The connection is replaced (kubeconfig change, cluster forgotten): the next
	// Ensure registers on the new connection's cache.
	before, err := registry.Get(ctx, services)
	if err != nil {
		t.Fatal(err)
	}
	registry.Forget(services)
	if !before.Closed() {
		t.Fatal("forgotten connection still open")
	}
	ensure("a")
	if got := w.Watched()[key]; !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("after reconnecting: triggers %v, want [a] until b registers again", got)
	}
	ensure("b")

	w.Release("a", nil)
	if got := w.Watched()[key]; !reflect.DeepEqual(got, []string{"b"}) {
		t.Fatalf("after releasing a: %v", got)
	}
	w.Release("b", nil)
	if got := w.Watched(); len(got) != 0 {
		t.Fatalf("after releasing every trigger: %v", got)
	}
}
