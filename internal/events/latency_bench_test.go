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
	ctx := context.Background()
	ensureFixture(b, "fetch-postgres-data.yaml")
	services, err := client.New(env.Cluster("services").Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		ns := fmt.Sprintf("latency-%d-%d", time.Now().UnixNano(), i)
		if err := clusters.EnsureNamespace(ctx, services, ns); err != nil {
			b.Fatal(err)
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-app", Labels: map[string]string{"cnpg.io/reload": "true"}},
			Data:       map[string][]byte{"username": []byte("app"), "password": []byte("pw")},
		}
		start := time.Now()
		if err := services.Create(ctx, secret); err != nil {
			b.Fatal(err)
		}
		deadline := start.Add(time.Minute)
		for {
			err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pg-credentials"}, &corev1.Secret{})
			if err == nil {
				break
			}
			if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
				b.Fatalf("pg-credentials in %s: %v", ns, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(start)
		b.StopTimer()
		if err := services.Delete(ctx, secret); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/event")
}

// ensureFixture applies a tutorial manifest unless it is already there.
func ensureFixture(tb testing.TB, name string) {
	tb.Helper()
	if err := createObjects(readFixture(tb, name), true); err != nil {
		tb.Fatal(err)
	}
}
