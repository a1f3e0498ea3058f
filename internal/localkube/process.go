package localkube

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// process is one child process (etcd or kube-apiserver) of the harness.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// launcher starts child processes from one goroutine locked to its OS thread.
// Linux delivers the parent-death signal when the *thread* that forked a child
// exits, so forking from a thread that lives as long as the harness is what
// makes "children die with the test binary" (even on a timeout panic) reliable.
type launcher struct {
	requests chan launchRequest
}

type launchRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

func newLauncher() *launcher {
	l := &launcher{requests: make(chan launchRequest)}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives while the harness does
		for req := range l.requests {
			req.reply <- req.cmd.Start()
		}
	}()
	return l
}

func (l *launcher) close() { close(l.requests) }

func (l *launcher) start(name string, log io.Writer, bin string, args ...string) (*process, error) {
	return l.startWithEnv(name, log, nil, bin, args...)
}

// startWithEnv is start with extra environment variables (KEY=VALUE) added to this process's.
func (l *launcher) startWithEnv(name string, log io.Writer, env []string, bin string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	reply := make(chan error, 1)
	l.requests <- launchRequest{cmd: cmd, reply: reply}
	if err := <-reply; err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop asks the process to end and kills it if it does not within the grace period.
func (p *process) stop(grace time.Duration) error {
	if p == nil || p.cmd.Process == nil {
		return nil
	}
	if done, _ := p.exited(); done {
		return nil
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New(p.name + " did not exit after SIGKILL")
	}
}

// freePort asks the kernel for an unused loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
