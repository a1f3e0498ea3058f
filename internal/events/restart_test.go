package events_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A manager restart mid-flow neither duplicates generated objects nor loses
// events that happened while no manager ran: the new manager finds the same
// origins under the same names, creates what is missing and deletes what lost
// its origin.
func TestRestartCreatesNoDuplicates(t *testing.T) {
	ctx := context.Background()
	const name = "events-restart"
	oneForEventTrigger(t, name, "seen", "default")
	workload := clusterClient(t, "workload")
	a := createSourceConfigMap(t, workload, name, "restart-a", "a")
	createSourceConfigMap(t, workload, name, "restart-b", "b")
	setLabels(t, "workload", map[string]string{name: "source"})
	defer setLabels(t, "workload", map[string]string{name: ""})

	// generated returns the generated profile names by matching resource, failing on duplicates.
	generated := func() (map[string]string, error) {
		out := map[string]string{}
		for _, p := range generatedProfiles(t, name) {
			res := p.Labels[libv1beta1.EventTriggerResourceNameLabel]
			if prev, ok := out[res]; ok {
				return nil, fmt.Errorf("duplicate ClusterProfiles %s and %s for %s", prev, p.Name, res)
			}
			out[res] = p.Name
		}
		cms := &corev1.ConfigMapList{}
		if err := mgmt.List(ctx, cms, client.InNamespace(libv1beta1.DefaultSystemNamespace), client.MatchingLabels{libv1beta1.EventTriggerNameLabel: name}); err != nil {
			return nil, err
		}
		if len(cms.Items) != len(out) {
			return nil, fmt.Errorf("%d instantiated ConfigMaps for %d profiles", len(cms.Items), len(out))
		}
		return out, nil
	}
	waitFor := func(what string, want ...string) map[string]string {
		t.Helper()
		var got map[string]string
		testenv.Eventually(t, what, func() error {
			var err error
			if got, err = generated(); err != nil {
				return err
			}
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, want) {
				return fmt.Errorf("profiles for %v, want %v", keys, want)
			}
			return nil
		})
		return got
	}
	before := waitFor("profiles for a and b", "restart-a", "restart-b")

	stopManager()
	// While no manager runs: one event goes, one comes.
	if err := workload.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	createSourceConfigMap(t, workload, name, "restart-c", "c")
	if err := startManager(ctx); err != nil {
		t.Fatal(err)
	}

	after := waitFor("profiles for b and c after the restart", "restart-b", "restart-c")
	if after["restart-b"] != before["restart-b"] {
		t.Errorf("profile of restart-b renamed across the restart: %s, then %s", before["restart-b"], after["restart-b"])
	}
	testenv.Eventually(t, "restart-c deployed by the new manager", func() error {
		return workload.Get(ctx, client.ObjectKey{Namespace: "default", Name: "restart-c-seen"}, &corev1.ConfigMap{})
	})
	if _, err := generated(); err != nil {
		t.Fatal(err)
	}
}
