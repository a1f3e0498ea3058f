package devplatform_test

import (
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/devplatform"
)

// testSchedulingAct runs `tug dev tutorial scheduling` on the platform of
// TestDevUpAndDown twice: first with --keep (its clusters stay), then again,
// which removes what the first run left, plays the act once more and deletes
// its clusters at the end.
func testSchedulingAct(t *testing.T, run func(args ...string) string) {
	steps := []string{
		"tug dev cluster create drone-dev --labels scheduler.kalypso.io/cluster-type=drone,scheduler.kalypso.io/environment=dev",
		"tug dev cluster create large-stage --labels scheduler.kalypso.io/cluster-type=large,scheduler.kalypso.io/environment=stage",
		"No Flux runs inside the local platform's clusters",
		"ok: Environment scheduling-demo/dev compliant with main",
		"the platform team registers the hello-world app on main",
		"ok: namespace dev-drone-hello-world-app-functional-test in drone-dev",
		"ok: namespace dev-large-hello-world-app-performance-test in large-dev",
		"ok: ConfigMap dev-drone-hello-world-app-functional-test/platform-config in drone-dev holds the tutorial's platform config",
		"CLUSTER_NAME: Drone",
		"dev: 2/2 members compliant with",
		"drone-dev/drone-dev (drone, delivered by tugboat) runs",
		"== 7. promoted",
		"ok: stage's base-repo.yaml pins",
		"ok: namespace stage-drone-hello-world-app-uat-test in drone-stage",
		"ok: namespace stage-large-hello-world-app-uat-test in large-stage",
		"stage: 2/2 members compliant with",
	}
	check := func(out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}

	first := run("dev", "tutorial", "scheduling", "--keep")
	check(first, steps...)
	check(first, "left running (--keep)")
	// What each cluster holds: the app's assignment of its environment, nothing else.
	for cluster, namespaces := range devplatform.SchedulingAssignments {
		check(first, "   "+cluster+strings.Repeat(" ", 12-len(cluster))+strings.Join(namespaces, ", ")+"\n")
	}
	listed := run("dev", "cluster", "list")
	for _, m := range devplatform.SchedulingMembers {
		check(listed, m.Name)
	}
	if t.Failed() {
		return
	}

	again := run("dev", "tutorial", "scheduling")
	check(again, steps...)
	check(again, "from an earlier run: deleting GitOpsRepo scheduling-demo/dev", "from an earlier run: deleting cluster drone-dev",
		"ok: cluster drone-dev deleted", "ok: cluster large-stage deleted")
	listed = run("dev", "cluster", "list")
	for _, m := range devplatform.SchedulingMembers {
		if strings.Contains(listed, m.Name) {
			t.Errorf("cluster %s left after the act:\n%s", m.Name, listed)
		}
	}
}
