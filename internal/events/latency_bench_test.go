package events_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// BenchmarkCredentialsLatency measures, with the tutorial's
// fetch-postgres-data.yaml, the time from creating a matching Secret in the
// services cluster to pg-credentials being readable in the management cluster
// (reported as ms/event; not asserted anywhere).
func BenchmarkCredentialsLatency(b *testing.B) {
	ensureFixture(b, "fetch-postgres-data.yaml")
	services, err := client.New(env.Cluster("services").Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		b.Fatal(err)
	}
	// The first event also starts the watches on the services cluster: measure
	// the steady state only.
	oneEvent(b, services, fmt.Sprintf("latency-warmup-%d", time.Now().UnixNano()))
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		took := oneEvent(b, services, fmt.Sprintf("latency-%d-%d", time.Now().UnixNano(), i))
		total += took
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/event")
}

// oneEvent creates a matching Secret in a new namespace of the services
// cluster and returns how long pg-credentials took to be readable in the
// management cluster; then (timer stopped) it deletes the Secret and waits for
// the withdrawal, so that it does not share the next measurement.
func oneEvent(b *testing.B, services client.Client, ns string) time.Duration {
	b.Helper()
	ctx := context.Background()
	b.StopTimer()
	if err := clusters.EnsureNamespace(ctx, services, ns); err != nil {
		b.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-app", Labels: map[string]string{"cnpg.io/reload": "true"}},
		Data:       map[string][]byte{"username": []byte("app"), "password": []byte("pw")},
	}
	key := types.NamespacedName{Namespace: ns, Name: "pg-credentials"}
	b.StartTimer()
	start := time.Now()
	if err := services.Create(ctx, secret); err != nil {
		b.Fatal(err)
	}
	waitSecret(b, key, true, start.Add(time.Minute))
	took := time.Since(start)
	b.StopTimer()
	if err := services.Delete(ctx, secret); err != nil {
		b.Fatal(err)
	}
	waitSecret(b, key, false, time.Now().Add(time.Minute))
	b.StartTimer()
	return took
}

// waitSecret polls the management cluster until the Secret exists (or, with
// exists false, is gone).
func waitSecret(b *testing.B, key types.NamespacedName, exists bool, deadline time.Time) {
	b.Helper()
	for {
		err := mgmt.Get(context.Background(), key, &corev1.Secret{})
		if exists && err == nil || !exists && apierrors.IsNotFound(err) {
			return
		}
		if err != nil && !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			b.Fatalf("waiting for Secret %s (exists=%v): %v", key, exists, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ensureFixture applies a tutorial manifest unless it is already there.
func ensureFixture(tb testing.TB, name string) {
	tb.Helper()
	if err := createObjects(readFixture(tb, name), true); err != nil {
		tb.Fatal(err)
	}
}
