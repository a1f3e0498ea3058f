package scheduling_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	benchOnce     sync.Once
	benchTutorial *tutorial
	benchWork     string // a clone of the control plane (a folder that outlives one run)
	benchRound    int
)

// BenchmarkDevCompliantToStage measures, per control-plane commit, the time from
// dev becoming compliant (Environment dev's status.compliantSince, stamped by
// the controller when it sees every dev cluster run the commit) to the stage
// assignments present in the large stage cluster (the uat-test namespace
// carrying the commit's label): the promotion commit, the stage render and
// push, source-controller's fetch and the profile deploy. The reference flow
// takes a CI workflow plus an inventory poll, minutes. Run it alone:
//
//	go test -run '^$' -bench DevCompliantToStage -benchtime 5x ./test/scheduling/
//
// (it uses the environments dev and stage of the member clusters, as
// TestTutorialDevToStage does, so the two do not run in one invocation).
func BenchmarkDevCompliantToStage(b *testing.B) {
	ctx := context.Background()
	const ns = "bench"
	// The benchmark function runs more than once (b.N grows): the repositories
	// and environments are set up by the first run.
	benchOnce.Do(func() {
		benchTutorial = newTutorial(b, "bench")
		setUpEnvironments(b, ns, benchTutorial, v1alpha1.PromotionAutomatic)
		benchWork = filepath.Join(env.Dir(), "bench-control-plane")
		gitopstest.Git(b, env.Dir(), "clone", "-q", benchTutorial.controlPlane, benchWork)
	})
	tu, work := benchTutorial, benchWork
	if tu == nil {
		b.Fatal("set-up failed")
	}
	template := readSeed(b, "control-plane/main/templates/namespace.yaml")
	large := member(b, "large-stage")

	promote := func(value string) (pinToCompliant, compliantToStage time.Duration) {
		commit := gitopstest.Push(b, work, "main", map[string]string{
			"workloads/hello-world-app.yaml": tu.registration(b),
			"templates/namespace.yaml":       strings.Replace(template, "someLabel: some-value", "someLabel: "+value, 1),
		})
		pinned := time.Now()
		gitopstest.Commit(b, tu.controlPlane, "dev", "", map[string]string{"base-repo.yaml": baseRepo(b, "dev", commit)})
		dev := waitEnvironment(b, ns, "dev", "compliant with "+value, compliantWith(commit))
		compliant := dev.Status.CompliantSince.Time
		testenv.Eventually(b, "uat-test in large-stage labelled "+value, func() error {
			n := &corev1.Namespace{}
			if err := large.Get(ctx, types.NamespacedName{Name: "stage-large-hello-world-app-uat-test"}, n); err != nil {
				return err
			}
			if got := n.Labels["someLabel"]; got != value {
				return fmt.Errorf("someLabel %q", got)
			}
			return nil
		})
		return compliant.Sub(pinned), time.Since(compliant)
	}
	benchRound++
	promote(fmt.Sprintf("warm-up-%d", benchRound)) // the first render and delivery of every folder
	b.ResetTimer()
	var toCompliant, toStage []time.Duration
	for i := 0; i < b.N; i++ {
		a, s := promote(fmt.Sprintf("bench-%d-%d", benchRound, i))
		toCompliant, toStage = append(toCompliant, a), append(toStage, s)
	}
	b.StopTimer()
	median := func(ds []time.Duration) float64 {
		sorted := append([]time.Duration(nil), ds...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		return float64(sorted[len(sorted)/2].Milliseconds())
	}
	b.ReportMetric(median(toStage), "ms-compliant-to-stage-p50")
	b.ReportMetric(median(toCompliant), "ms-pin-to-dev-compliant-p50")
	b.Logf("dev pinned → dev compliant: %v; dev compliant → stage assignments in large-stage: %v", toCompliant, toStage)
}
