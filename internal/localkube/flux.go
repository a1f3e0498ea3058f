package localkube

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tugboat-dev/tugboat/config/crd"
)

// SourceController is Flux's own source-controller, running as a process against
// the management cluster: it turns GitRepository/OCIRepository/Bucket objects
// into artifacts served over HTTP from StorageURL.
type SourceController struct {
	// StorageURL is where it serves artifacts (http://127.0.0.1:PORT).
	StorageURL string
	proc       *process
}

// SourceControllerBinary and FluxCRDsDir are where hack/test-binaries.sh puts
// source-controller (built from its Go module in hack/flux) and the Flux source
// CRDs shipped in that module, inside the bin folder.
const (
	SourceControllerBinary = "source-controller"
	FluxCRDsDir            = "flux-crds"
)

// CheckSourceController tells in one line, naming `make testbin`, when binDir
// lacks source-controller or the Flux CRDs (callers check before starting anything).
func CheckSourceController(binDir string) error {
	if !fileExists(filepath.Join(binDir, SourceControllerBinary)) || !fileExists(filepath.Join(binDir, FluxCRDsDir)) {
		return fmt.Errorf("localkube: Flux's source-controller is not in %s: build it with `make testbin` in a Tugboat checkout", binDir)
	}
	return nil
}

// StartSourceController installs Flux's source CRDs into the management cluster
// and starts source-controller watching every namespace; it stops with the Env.
func (e *Env) StartSourceController(ctx context.Context) (*SourceController, error) {
	if err := CheckSourceController(e.binDir); err != nil {
		return nil, err
	}
	bin := filepath.Join(e.binDir, SourceControllerBinary)
	crdDir := filepath.Join(e.binDir, FluxCRDsDir)
	crds, err := crd.Read(os.DirFS(crdDir), "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("localkube: reading Flux's CRDs in %s: %w", crdDir, err)
	}
	if err := crd.Apply(ctx, e.Management().Config, crds); err != nil {
		return nil, fmt.Errorf("localkube: installing Flux's CRDs: %w", err)
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	storage := "127.0.0.1:" + strconv.Itoa(ports[0])
	health := "127.0.0.1:" + strconv.Itoa(ports[1])
	storagePath := filepath.Join(e.dir, "source-controller")
	if err := os.MkdirAll(storagePath, 0o755); err != nil {
		return nil, err
	}
	log, err := e.logFor(e.opts, "source-controller")
	if err != nil {
		return nil, err
	}
	p, err := e.launcher.startWithEnv("source-controller", log,
		[]string{"KUBECONFIG=" + e.Management().KubeconfigPath, "RUNTIME_NAMESPACE=flux-system"},
		bin,
		"--storage-path="+storagePath,
		"--storage-addr="+storage,
		"--storage-adv-addr="+storage,
		"--health-addr="+health,
		"--metrics-addr=127.0.0.1:"+strconv.Itoa(ports[2]),
		"--enable-leader-election=false",
		"--watch-all-namespaces=true",
		"--concurrent=4",
		"--log-level=info",
	)
	if err != nil {
		return nil, err
	}
	e.extras = append(e.extras, p)
	sc := &SourceController{StorageURL: "http://" + storage, proc: p}
	deadline := time.Now().Add(time.Minute)
	for {
		if done, perr := p.exited(); done {
			return nil, fmt.Errorf("localkube: source-controller exited early (%v):\n%s", perr, e.logTail("source-controller", 20))
		}
		resp, err := http.Get("http://" + health + "/readyz") //nolint:noctx // loopback probe
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return sc, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("localkube: source-controller not ready after a minute; see %s", e.logPath("source-controller"))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logTail is the last n lines of a process's log file (empty when the log goes elsewhere).
func (e *Env) logTail(name string, n int) string {
	raw, err := os.ReadFile(e.logPath(name))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
