package postgreswriter

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The API server and the PostgreSQL server shared by the tests of this package.
var (
	env *testenv.Env
	pg  *pgServer
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// Loggers are per test; this only silences controller-runtime's warning
	// about a logger never being set.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	opts := testenv.Options{Clusters: []string{"mgmt"}, InstallCRDs: true}
	flag.Parse()
	if testing.Short() { // the unit tier: no database, no cluster (testenv.Main)
		return testenv.Main(m, opts, &env)
	}

	server, err := startPostgres()
	if err != nil {
		fmt.Fprintf(os.Stderr, "postgreswriter tests need a PostgreSQL server (Debian's postgresql, started through hack/postgres.sh): %v\n", err)
		return 1
	}
	pg = server
	defer func() {
		if err := server.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		_ = os.RemoveAll(server.tmp)
	}()
	return testenv.Main(m, opts, &env)
}

// pgServer is a private PostgreSQL server run by hack/postgres.sh.
type pgServer struct {
	script string
	tmp    string // removed at the end; the server lives in tmp/pg
	port   int
}

func startPostgres() (*pgServer, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "postgreswriter-pg-")
	if err != nil {
		return nil, fmt.Errorf("creating the server's folder: %w", err)
	}
	// The server runs as the postgres user when we are root: it must be able to
	// reach its data directory below this folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening %s to the server's user: %w", dir, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &pgServer{script: filepath.Join(root, "hack", "postgres.sh"), tmp: dir, port: port}
	if err := s.start(); err != nil {
		_ = s.stop()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *pgServer) dataDir() string { return filepath.Join(s.tmp, "pg") }

// start starts (or restarts) the server; a watchdog stops it should this test
// process die without cleaning up.
func (s *pgServer) start() error {
	return s.run("start", s.dataDir(), strconv.Itoa(s.port), strconv.Itoa(os.Getpid()))
}

func (s *pgServer) stop() error { return s.run("stop", s.dataDir()) }

func (s *pgServer) run(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // first use may install the package
	defer cancel()
	cmd := exec.CommandContext(ctx, s.script, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hack/postgres.sh %v: %w\n%s", args, err, out.String())
	}
	return nil
}

// dsn is a connection URL for the server's superuser.
func (s *pgServer) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// repoRoot walks up from the working directory to the folder holding hack/postgres.sh.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "postgres.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the repository root: no hack/postgres.sh above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
