package chaos_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// managerProc is one manager process, built from ./cmd/manager.
type managerProc struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// managerFlags are the flags of one manager replica.
type managerFlags struct {
	// leaderElect turns leader election on (with short, test-friendly timings).
	leaderElect bool
	extra       []string
}

// scene holds the manager processes of one test. It is created first, so that
// its cleanup — stopping them all — runs last: the fleet's and profiles'
// cleanups need a manager to withdraw and let go of summaries.
type scene struct {
	t        *testing.T
	mu       sync.Mutex
	managers []*managerProc
}

func newScene(t *testing.T) *scene {
	sc := &scene{t: t}
	t.Cleanup(sc.stopAll)
	return sc
}

// startManager starts a manager against the management cluster, stopped
// (SIGTERM) when the test ends if it still runs.
func (sc *scene) startManager(name string, f managerFlags) *managerProc {
	sc.t.Helper()
	p, err := sc.launch(name, f)
	if err != nil {
		sc.t.Fatal(err)
	}
	return p
}

// launch starts a manager process and keeps it to stop at the end.
func (sc *scene) launch(name string, f managerFlags) (*managerProc, error) {
	p, err := launchManager(sc.t.Name(), name, f)
	if err != nil {
		return nil, err
	}
	sc.mu.Lock()
	sc.managers = append(sc.managers, p)
	sc.mu.Unlock()
	return p, nil
}

func (sc *scene) stopAll() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, p := range sc.managers {
		p.stop()
		if sc.t.Failed() {
			sc.t.Logf("manager %s log: %s", p.name, p.log)
		}
	}
}

// launchManager starts a manager process of test testName.
func launchManager(testName, name string, f managerFlags) (*managerProc, error) {
	logPath := filepath.Join(s.logDir, strings.NewReplacer("/", "_").Replace(testName)+"-"+name+".log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + s.env.Management().KubeconfigPath,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
		"--helm-cache-dir=" + filepath.Join(s.logDir, "helm"),
		fmt.Sprintf("--leader-elect=%t", f.leaderElect),
	}
	if f.leaderElect {
		// Short timings: a standby takes over within seconds of the leader's death.
		args = append(args, "--leader-election-lease-duration=6s", "--leader-election-renew-deadline=4s",
			"--leader-election-retry-period=1s")
	}
	args = append(args, strings.Fields(os.Getenv("TUGBOAT_CHAOS_MANAGER_FLAGS"))...)
	args = append(args, f.extra...)
	cmd := exec.Command(s.manager, args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, and killed when this test binary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(log, "=== %s starting manager %s\n", time.Now().Format(time.RFC3339Nano), name)
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting manager %s: %w", name, err)
	}
	p := &managerProc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// kill ends the manager with SIGKILL, as a crash or an OOM kill would.
func (p *managerProc) kill() {
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop asks the manager to end (SIGTERM) and kills it after 10 s.
func (p *managerProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// exited reports whether the manager has ended by itself, and how.
func (p *managerProc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// supervisor restarts a manager that exits by itself, as a Deployment's
// kubelet would, and counts the restarts.
type supervisor struct {
	sc    *scene
	name  string
	flags managerFlags
	mu    sync.Mutex
	cur   *managerProc
	stops chan struct{}
	wg    sync.WaitGroup
	// restarts are the exits it restarted the manager after, with their errors.
	restarts []string
	// failed records a restart that could not start the manager.
	failed error
}

// supervise starts a manager and restarts it whenever it exits, until the test ends.
func (sc *scene) supervise(name string, f managerFlags) *supervisor {
	sv := &supervisor{sc: sc, name: name, flags: f, cur: sc.startManager(name, f), stops: make(chan struct{})}
	sv.wg.Add(1)
	go sv.loop()
	sc.t.Cleanup(sv.stop)
	return sv
}

func (sv *supervisor) loop() {
	defer sv.wg.Done()
	for {
		sv.mu.Lock()
		cur := sv.cur
		sv.mu.Unlock()
		select {
		case <-sv.stops:
			return
		case <-cur.done:
		}
		sv.mu.Lock()
		delay := min(10*time.Second, time.Second<<len(sv.restarts)) // a kubelet's back-off, shortened
		sv.mu.Unlock()
		select {
		case <-sv.stops:
			return
		case <-time.After(delay):
		}
		sv.mu.Lock()
		sv.restarts = append(sv.restarts, fmt.Sprintf("%v: %s", cur.err, lastLine(cur.log)))
		next, err := sv.sc.launch(fmt.Sprintf("%s-restart-%d", sv.name, len(sv.restarts)), sv.flags)
		if err != nil {
			sv.failed = err
			sv.mu.Unlock()
			return
		}
		sv.cur = next
		sv.mu.Unlock()
	}
}

// current is the manager process running now (or the last one, if it exited).
func (sv *supervisor) current() *managerProc {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.cur
}

// restartCount is how many times the manager exited and was started again, and why.
func (sv *supervisor) restartCount() ([]string, int) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return append([]string(nil), sv.restarts...), len(sv.restarts)
}

// stop ends the supervision (the scene stops the manager).
func (sv *supervisor) stop() {
	select {
	case <-sv.stops:
		return
	default:
	}
	close(sv.stops)
	sv.wg.Wait()
	if sv.failed != nil {
		sv.sc.t.Errorf("supervisor: %v", sv.failed)
	}
}

// lastLine is the last line of a log file (what a manager said before it exited), shortened.
func lastLine(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	last := lines[len(lines)-1]
	if len(last) > 200 {
		last = last[:200] + "..."
	}
	return last
}
