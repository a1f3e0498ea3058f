package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const (
	stormName      = "chaos-storm"
	stormLabel     = "chaos.tugboat.dev/storm"
	stormSource    = "storm-src" // namespace of the matching objects
	stormCopies    = "storm-dst" // namespace of what the generated profiles deploy
	stormCopyLabel = "chaos-storm-copies"
)

// An event storm: s.size.storm matching objects created in bursts in a source
// cluster, then a random half of them deleted in bursts, then the rest. After
// each phase the EventTrigger's generated profiles (one per object), their
// instantiated ConfigMaps and what they deployed match exactly the objects that
// exist: nothing lost, nothing left of what disappeared, nothing twice.
func TestEventStorm(t *testing.T) {
	const scenario = "event storm"
	longOnly(t)
	ctx := context.Background()
	sc := newScene(t)
	sc.startManager("manager", managerFlags{})
	f := registerFleet(t, "storm", 1, "api-1")
	src, err := managedClient("api-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{stormSource, stormCopies} {
		if err := clusters.EnsureNamespace(ctx, src, ns); err != nil {
			t.Fatal(err)
		}
	}
	storm := chaosStorm(f)
	stormTrigger(t, storm)

	n := s.size.storm
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("storm-%04d", i)
	}
	live := map[string]bool{}
	burst := func(what string, batch []string, create bool) {
		t.Helper()
		err := testenv.Parallel(ctx, 16, len(batch), func(i int) error {
			cm := storm.Matching(batch[i], batch[i])
			if create {
				return src.Create(ctx, cm)
			}
			return client.IgnoreNotFound(src.Delete(ctx, cm))
		})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, name := range batch {
			live[name] = create
		}
	}
	// Creations in four bursts, a deletion of a random half mixed in before the last.
	rng := rand.New(rand.NewPCG(uint64(n), 22))
	quarter := n / 4
	for b := range 4 {
		burst(fmt.Sprintf("creation burst %d", b+1), names[b*quarter:min(n, (b+1)*quarter)], true)
		time.Sleep(time.Second)
	}
	half := rng.Perm(n)[:n/2]
	var doomed []string
	for _, i := range half {
		doomed = append(doomed, names[i])
	}
	burst("deletion burst 1", doomed[:len(doomed)/2], false)
	time.Sleep(time.Second)
	burst("deletion burst 2", doomed[len(doomed)/2:], false)
	phase := func(what string) {
		t.Helper()
		want := map[string]bool{}
		for name, ok := range live {
			if ok {
				want[name] = true
			}
		}
		got, took := converge(t, what, time.Now(), func(ctx context.Context) (tally, error) { return stormCheck(ctx, src, want) })
		s.results.record(t, outcome{Scenario: scenario, Converged: got.converged(), Duplicates: got.duplicates, Lost: got.lost,
			Converge: took.Seconds(), Note: fmt.Sprintf("%s: %d created, %d live", what, n, len(want))})
	}
	phase("half deleted")

	var rest []string
	for name, ok := range live {
		if ok {
			rest = append(rest, name)
		}
	}
	burst("deleting the rest", rest, false)
	phase("all deleted")
}

// chaosStorm is the storm's fixture: one generated profile per matching object
// in stormSource of the fleet's clusters, each deploying a copy of it to
// stormCopies.
func chaosStorm(f *fleet) testenv.EventStorm {
	return testenv.EventStorm{
		Name: stormName, SourceNamespace: stormSource, SourceLabel: stormLabel,
		CopiesNamespace: stormCopies, CopyLabel: profileLabel, CopyValue: stormCopyLabel,
		Clusters: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{fleetLabel: f.name}}},
	}
}

// stormTrigger creates the template, EventSource and EventTrigger of the storm
// and deletes them when the test ends.
func stormTrigger(t *testing.T, storm testenv.EventStorm) {
	t.Helper()
	ctx := context.Background()
	objects := storm.Objects()
	for _, o := range objects {
		if err := s.mgmt.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	t.Cleanup(func() {
		for _, o := range slices.Backward(objects) {
			if err := s.mgmt.Delete(context.Background(), o); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("deleting %T %s: %v", o, o.GetName(), err)
			}
		}
	})
}

// stormCheck compares the generated profiles, their instantiated ConfigMaps and
// the deployed copies with the live matching objects.
func stormCheck(ctx context.Context, src client.Client, want map[string]bool) (tally, error) {
	var t tally
	profiles := &configv1beta1.ClusterProfileList{}
	if err := s.mgmt.List(ctx, profiles, client.MatchingLabels{libv1beta1.EventTriggerNameLabel: stormName}); err != nil {
		return t, err
	}
	perResource := map[string]int{}
	for _, p := range profiles.Items {
		if p.DeletionTimestamp.IsZero() {
			perResource[p.Labels[libv1beta1.EventTriggerResourceNameLabel]]++
		} else {
			t.pending++
		}
	}
	compare("generated ClusterProfile", perResource, want, &t)

	instantiated := &corev1.ConfigMapList{}
	if err := s.mgmt.List(ctx, instantiated, client.InNamespace(libv1beta1.DefaultSystemNamespace),
		client.MatchingLabels{libv1beta1.EventTriggerNameLabel: stormName}); err != nil {
		return t, err
	}
	if len(instantiated.Items) != len(want) {
		t.pending++ // counted once the profiles agree; a difference that stays fails the convergence
		t.notef("%d instantiated ConfigMaps for %d live objects", len(instantiated.Items), len(want))
		if len(instantiated.Items) > len(want) {
			t.duplicates += len(instantiated.Items) - len(want)
		} else {
			t.lost += len(want) - len(instantiated.Items)
		}
	}

	copies := &corev1.ConfigMapList{}
	if err := src.List(ctx, copies, client.InNamespace(stormCopies), client.MatchingLabels{profileLabel: stormCopyLabel}); err != nil {
		return t, err
	}
	deployed := map[string]int{}
	for _, c := range copies.Items {
		deployed[c.Name[:len(c.Name)-len("-copy")]]++
	}
	compare("deployed copy", deployed, want, &t)
	return t, nil
}

// compare counts, per live object, what is missing (lost) or there more than
// once or for an object that is gone (duplicates).
func compare(what string, have map[string]int, want map[string]bool, t *tally) {
	for name := range want {
		if have[name] == 0 {
			t.lost++
			t.notef("no %s for %s", what, name)
		}
	}
	for name, n := range have {
		switch {
		case !want[name]:
			t.duplicates += n
			t.notef("%s for %s, which is gone", what, name)
		case n > 1:
			t.duplicates += n - 1
			t.notef("%d of %s for %s", n, what, name)
		}
	}
}
