// Package chaos disrupts a running platform — real kube-apiserver and etcd
// processes, the manager as a real process built from ./cmd/manager — and checks
// that it converges with nothing lost and nothing duplicated (issue #22).
//
// Each scenario is a test. `go test ./test/chaos/` (and so `make test`) runs the
// short variants; TUGBOAT_CHAOS=long (what `make chaos` sets) runs the long ones:
// more clusters, more seeds, longer outages, bigger storms. Every run of a
// scenario appends its outcome to results.jsonl in the output folder
// ($TUGBOAT_CHAOS_OUT, which make chaos sets to test/chaos/out; default a
// temporary folder), and TestMain ends by writing the table of this run's
// outcomes to table.md there and printing it.
//
// The managers' logs go to a temporary folder removed after a passing run;
// TUGBOAT_CHAOS_LOGS names a folder that keeps them, and
// TUGBOAT_CHAOS_MANAGER_FLAGS adds flags to every manager (for example
// --zap-log-level=5 to see each reconcile). TUGBOAT_CHAOS_SEEDS (a comma-separated
// list) replaces the kill scenarios' seeds.
//
// No kubelet runs: nothing here needs a Pod or Job to run.
package chaos_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// suite is what every scenario shares: the clusters, the manager binary, the
// variant's sizes and where outcomes go.
type suite struct {
	env     *testenv.Env
	mgmt    client.Client
	manager string // path of the built manager binary
	size    sizes
	results *results
	logDir  string

	clientsMu sync.Mutex
	clients   map[string]client.Client
}

// managed are the managed API servers; the many registrations of a scenario point at them.
var managed = []string{"api-1", "api-2"}

// the suite of this test binary, set by TestMain before any test runs.
var s *suite

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrllog.SetLogger(logr.Discard()) // the test's own clients log nothing
	size := shortSizes()
	switch os.Getenv("TUGBOAT_CHAOS") {
	case "long":
		size = longSizes()
	case "all":
		size.all = true
	}
	if list := os.Getenv("TUGBOAT_CHAOS_SEEDS"); list != "" { // e.g. 1 or 2,5: a quick run of a kill scenario
		size.seeds = nil
		for _, f := range strings.Split(list, ",") {
			seed, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				fmt.Fprintf(os.Stderr, "chaos: TUGBOAT_CHAOS_SEEDS=%q: %v\n", list, err)
				return 2
			}
			size.seeds = append(size.seeds, seed)
		}
	}
	var env *testenv.Env
	s = &suite{size: size}
	code := testenv.Main(m, testenv.Options{Clusters: append([]string{"mgmt"}, managed...), InstallCRDs: true}, &env,
		func(ctx context.Context, started *testenv.Env) error { return s.setup(ctx, started) })
	if s.results != nil {
		table, err := s.results.writeTable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
			return 1
		}
		fmt.Print(table)
	}
	if s.manager != "" && code == 0 {
		_ = os.RemoveAll(filepath.Dir(s.manager)) // kept when a test failed: the managers' logs are there
	}
	return code
}

// setup builds the manager once for the package and prepares the output folder.
func (s *suite) setup(ctx context.Context, env *testenv.Env) error {
	s.env = env
	var err error
	if s.mgmt, err = client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()}); err != nil {
		return err
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	bin, err := os.MkdirTemp("", "tugboat-chaos-")
	if err != nil {
		return err
	}
	s.manager = filepath.Join(bin, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", s.manager, "./cmd/manager")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the manager: %w: %s", err, out)
	}
	s.logDir = filepath.Join(bin, "logs")
	if dir := os.Getenv("TUGBOAT_CHAOS_LOGS"); dir != "" {
		s.logDir = dir // kept: to read what the managers did in a run that passed
	}
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return err
	}
	out := os.Getenv("TUGBOAT_CHAOS_OUT") // make chaos: test/chaos/out
	if out == "" {
		out = filepath.Join(bin, "out")
	}
	s.results, err = newResults(out)
	return err
}
