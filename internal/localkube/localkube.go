// Package localkube runs local Kubernetes control planes — real kube-apiserver
// processes over a shared real etcd — for `tug dev up`, the benchmarks and (through
// internal/testenv, which adds what only tests need) the test suites. It does not
// import package testing, so the tug binary can link it.
//
// No kubelet or controller-manager runs: pods never start, namespaces are never
// finalized and ownerReferences are not garbage-collected; everything else an API
// server does (admission, validation, server-side apply, watches, RBAC) is real.
//
// The binaries come from hack/test-binaries.sh (kube-apiserver built from the
// k8s.io/kubernetes module, etcd from Debian), which keeps them in a cache folder
// per machine; see Options.BinDir and BinDir.
package localkube

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tugboat-dev/tugboat/config/crd"
)

// Options configures a set of local clusters.
type Options struct {
	// Clusters names the clusters to start; the first is the management cluster.
	Clusters []string

	// BinDir holds kube-apiserver and etcd. Default: see the function BinDir.
	BinDir string

	// Dir is where data, certificates, logs and kubeconfigs go. Default: a new
	// temporary folder (under /dev/shm when available), removed by Stop.
	Dir string

	// InstallCRDs installs Tugboat's CRDs into the management cluster.
	InstallCRDs bool

	// Log receives the processes' output. Default: a file per process in Dir.
	Log io.Writer
}

// Cluster is one running API server.
type Cluster struct {
	// Name is the name the cluster was started with.
	Name string
	// URL is the API server's address.
	URL string
	// Config is an admin client configuration for it.
	Config *rest.Config
	// Kubeconfig is a self-contained admin kubeconfig (context named after the cluster).
	Kubeconfig []byte
	// KubeconfigPath is where Kubeconfig is written.
	KubeconfigPath string

	apiserver *process
}

// Env is a running set of clusters.
type Env struct {
	Clusters []*Cluster

	dir      string
	ownsDir  bool
	binDir   string
	opts     Options
	etcd     *process
	extras   []*process // started after the clusters (source-controller), stopped first
	launcher *launcher
	stopOnce sync.Once
	logs     []io.Closer

	etcdURL     string
	etcdPeerURL string
	etcdLog     io.Writer
	server      serverFiles
	// mu guards Clusters against AddCluster and RemoveCluster running while
	// Cluster and Stop read it.
	mu      sync.Mutex
	stopped bool
}

// serverFiles are what every API server of an Env shares: the certificate
// authority, the serving certificate, the service-account keys and the admin
// client certificate written into kubeconfigs.
type serverFiles struct {
	caPEM                     []byte
	caFile, certFile, keyFile string
	saKey, saPub              string
	adminCert, adminKey       []byte
}

// Start starts etcd and one kube-apiserver per named cluster and waits until all are ready.
// On error everything already started is stopped.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	if len(opts.Clusters) == 0 {
		return nil, errors.New("localkube: no clusters named")
	}
	binDir, err := BinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	env = &Env{dir: opts.Dir, binDir: binDir, opts: opts, launcher: newLauncher()}
	defer func() {
		if err != nil {
			env.Stop()
		}
	}()
	if env.dir == "" {
		base := ""
		if fileExists("/dev/shm") {
			base = "/dev/shm"
		}
		if env.dir, err = os.MkdirTemp(base, "tugboat-localkube-"); err != nil {
			return env, fmt.Errorf("localkube: creating work folder: %w", err)
		}
		env.ownsDir = true
	} else if err := os.MkdirAll(env.dir, 0o755); err != nil {
		return env, fmt.Errorf("localkube: creating %s: %w", env.dir, err)
	}

	ca, err := newPKI()
	if err != nil {
		return env, fmt.Errorf("localkube: creating certificate authority: %w", err)
	}
	pkiDir := filepath.Join(env.dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return env, err
	}
	caFile := filepath.Join(pkiDir, "ca.crt")
	if err := os.WriteFile(caFile, ca.caPEM, 0o600); err != nil {
		return env, err
	}
	saKey, saPub, err := writeServiceAccountKey(pkiDir)
	if err != nil {
		return env, err
	}
	serverCert, serverKey, err := ca.issue("kube-apiserver", nil, true)
	if err != nil {
		return env, err
	}
	certFile, keyFile := filepath.Join(pkiDir, "apiserver.crt"), filepath.Join(pkiDir, "apiserver.key")
	if err := os.WriteFile(certFile, serverCert, 0o600); err != nil {
		return env, err
	}
	if err := os.WriteFile(keyFile, serverKey, 0o600); err != nil {
		return env, err
	}
	adminCert, adminKey, err := ca.issue("tugboat-admin", []string{"system:masters"}, false)
	if err != nil {
		return env, err
	}
	env.server = serverFiles{caPEM: ca.caPEM, caFile: caFile, certFile: certFile, keyFile: keyFile,
		saKey: saKey, saPub: saPub, adminCert: adminCert, adminKey: adminKey}

	if env.etcdURL, err = env.startEtcd(ctx, opts, binDir); err != nil {
		return env, err
	}

	for _, name := range opts.Clusters {
		c, err := env.startAPIServer(name)
		if err != nil {
			return env, err
		}
		env.Clusters = append(env.Clusters, c)
	}

	var wg sync.WaitGroup
	errs := make([]error, len(env.Clusters))
	for i, c := range env.Clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = env.waitReady(ctx, c)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return env, err
	}
	if opts.InstallCRDs {
		if err := crd.Install(ctx, env.Clusters[0].Config); err != nil {
			return env, fmt.Errorf("localkube: installing CRDs into %s: %w", env.Clusters[0].Name, err)
		}
	}
	return env, nil
}

// startAPIServer starts a kube-apiserver named name over the Env's etcd (its
// keys under /clusters/<name>/) and writes its kubeconfig; it does not wait.
func (e *Env) startAPIServer(name string) (*Cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("localkube: finding a port for %s: %w", name, err)
	}
	f := e.server
	c := &Cluster{Name: name, URL: "https://127.0.0.1:" + strconv.Itoa(port)}
	c.Config = &rest.Config{
		Host:            c.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: f.caPEM, CertData: f.adminCert, KeyData: f.adminKey},
		QPS:             200,
		Burst:           400,
	}
	if c.Kubeconfig, err = kubeconfigFor(name, c.URL, f.caPEM, f.adminCert, f.adminKey); err != nil {
		return nil, err
	}
	c.KubeconfigPath = filepath.Join(e.dir, name+".kubeconfig")
	if err := os.WriteFile(c.KubeconfigPath, c.Kubeconfig, 0o600); err != nil {
		return nil, err
	}
	if c.apiserver, err = e.launchAPIServer(name, port); err != nil {
		return nil, err
	}
	return c, nil
}

// launchAPIServer starts the kube-apiserver process of cluster name on port.
func (e *Env) launchAPIServer(name string, port int) (*process, error) {
	f := e.server
	args := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--etcd-servers=" + e.etcdURL,
		"--etcd-prefix=" + etcdPrefix(name),
		"--tls-cert-file=" + f.certFile,
		"--tls-private-key-file=" + f.keyFile,
		"--client-ca-file=" + f.caFile,
		"--service-account-key-file=" + f.saPub,
		"--service-account-signing-key-file=" + f.saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		// No controller-manager creates default ServiceAccounts, so pods would be refused.
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--cert-dir=" + filepath.Join(e.dir, name+"-certs"),
		"--v=0",
	}
	log, err := e.logFor(e.opts, name+"-apiserver")
	if err != nil {
		return nil, err
	}
	return e.launcher.start(name+"/kube-apiserver", log, filepath.Join(e.binDir, "kube-apiserver"), args...)
}

// etcdPrefix is where a cluster's API server keeps its objects in the shared etcd.
func etcdPrefix(name string) string { return "/clusters/" + name }

// AddCluster starts one more API server named name on a running Env, over the
// same etcd, and waits until it is ready. A name already in use is an error.
// The cluster stops with the Env, or earlier with RemoveCluster.
func (e *Env) AddCluster(ctx context.Context, name string) (*Cluster, error) {
	if name == "" || strings.ContainsAny(name, "/ ") {
		return nil, fmt.Errorf("localkube: invalid cluster name %q", name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil, errors.New("localkube: the clusters are stopped")
	}
	if e.clusterLocked(name) != nil {
		return nil, fmt.Errorf("localkube: cluster %q exists", name)
	}
	// Objects a previous cluster of that name left in etcd would reappear.
	if err := e.deleteEtcdPrefix(ctx, etcdPrefix(name)+"/"); err != nil {
		return nil, err
	}
	c, err := e.startAPIServer(name)
	if err != nil {
		return nil, err
	}
	if err := e.waitReady(ctx, c); err != nil {
		_ = c.apiserver.stop(10 * time.Second)
		return nil, err
	}
	e.Clusters = append(e.Clusters, c)
	return c, nil
}

// RemoveCluster stops a cluster's API server and deletes its objects from etcd
// and its kubeconfig file, so that the name can be used again. The management
// cluster cannot be removed.
func (e *Env) RemoveCluster(ctx context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := -1
	for j, c := range e.Clusters {
		if c.Name == name {
			i = j
		}
	}
	switch {
	case i < 0:
		return fmt.Errorf("localkube: no cluster %q", name)
	case i == 0:
		return fmt.Errorf("localkube: %s is the management cluster; it stops with the others", name)
	}
	c := e.Clusters[i]
	if err := c.apiserver.stop(10 * time.Second); err != nil {
		return fmt.Errorf("localkube: stopping the API server of %s: %w", name, err)
	}
	e.Clusters = append(e.Clusters[:i:i], e.Clusters[i+1:]...)
	_ = os.Remove(c.KubeconfigPath)
	_ = os.RemoveAll(filepath.Join(e.dir, name+"-certs"))
	return e.deleteEtcdPrefix(ctx, etcdPrefix(name)+"/")
}

// deleteEtcdPrefix deletes every etcd key starting with prefix, through etcd's
// JSON gateway (POST /v3/kv/deleterange; keys are base64).
func (e *Env) deleteEtcdPrefix(ctx context.Context, prefix string) error {
	end := []byte(prefix)
	end[len(end)-1]++ // the first key after every key with this prefix
	body, err := json.Marshal(map[string]string{
		"key":       base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end),
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.etcdURL+"/v3/kv/deleterange", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("localkube: deleting %s from etcd: %w", prefix, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("localkube: deleting %s from etcd: HTTP %d: %s", prefix, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// Management is the first cluster.
func (e *Env) Management() *Cluster { return e.Clusters[0] }

// Cluster returns the named cluster, or nil.
func (e *Env) Cluster(name string) *Cluster {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clusterLocked(name)
}

func (e *Env) clusterLocked(name string) *Cluster {
	for _, c := range e.Clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Dir is the folder holding the kubeconfigs, logs and data.
func (e *Env) Dir() string { return e.dir }

// StopCluster stops one API server (its data stays in etcd); tests use it to make
// a cluster unreachable.
func (e *Env) StopCluster(name string) error {
	c := e.Cluster(name)
	if c == nil {
		return fmt.Errorf("localkube: no cluster %q", name)
	}
	return c.apiserver.stop(10 * time.Second)
}

// RestartCluster starts again the API server of a cluster StopCluster stopped,
// on the same address with the same data, and waits until it is ready: its
// kubeconfig stays valid (tests use it to bring an unreachable cluster back).
func (e *Env) RestartCluster(ctx context.Context, name string) error {
	c := e.Cluster(name)
	if c == nil {
		return fmt.Errorf("localkube: no cluster %q", name)
	}
	if exited, _ := c.apiserver.exited(); !exited {
		return fmt.Errorf("localkube: cluster %q is running", name)
	}
	port, err := strconv.Atoi(c.URL[strings.LastIndex(c.URL, ":")+1:])
	if err != nil {
		return fmt.Errorf("localkube: cluster %q: port of %s: %w", name, c.URL, err)
	}
	p, err := e.launchAPIServer(name, port)
	if err != nil {
		return err
	}
	e.mu.Lock()
	c.apiserver = p
	e.mu.Unlock()
	return e.waitReady(ctx, c)
}

// StopEtcd stops the etcd every API server of the Env stores its objects in
// (its data stays); tests use it to take the storage away from under the API
// servers, which keep running and fail their requests meanwhile.
func (e *Env) StopEtcd() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.etcd.stop(10 * time.Second)
}

// RestartEtcd starts again the etcd StopEtcd stopped, on the same address with
// the same data, and waits until it is healthy.
func (e *Env) RestartEtcd(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return errors.New("localkube: the clusters are stopped")
	}
	if exited, _ := e.etcd.exited(); !exited {
		return errors.New("localkube: etcd is running")
	}
	return e.launchEtcd(ctx, e.etcdURL)
}

// Stop stops every process and removes the work folder if Start created it. Safe to call twice.
func (e *Env) Stop() {
	e.stopOnce.Do(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.stopped = true
		for _, p := range e.extras {
			_ = p.stop(10 * time.Second)
		}
		var wg sync.WaitGroup
		for _, c := range e.Clusters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c.apiserver.stop(10 * time.Second)
			}()
		}
		wg.Wait()
		_ = e.etcd.stop(10 * time.Second)
		e.launcher.close()
		for _, l := range e.logs {
			_ = l.Close()
		}
		if e.ownsDir {
			_ = os.RemoveAll(e.dir)
		}
	})
}

func (e *Env) startEtcd(ctx context.Context, opts Options, binDir string) (string, error) {
	clientPort, err := freePort()
	if err != nil {
		return "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	e.etcdPeerURL = "http://127.0.0.1:" + strconv.Itoa(peerPort)
	if e.etcdLog, err = e.logFor(opts, "etcd"); err != nil {
		return "", err
	}
	if err := e.launchEtcd(ctx, clientURL); err != nil {
		return "", err
	}
	return clientURL, nil
}

// launchEtcd starts the etcd process serving clientURL and waits until it is healthy.
func (e *Env) launchEtcd(ctx context.Context, clientURL string) error {
	peerURL := e.etcdPeerURL
	var err error
	e.etcd, err = e.launcher.start("etcd", e.etcdLog, filepath.Join(e.binDir, "etcd"),
		"--name=tugboat",
		"--data-dir="+filepath.Join(e.dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=tugboat="+peerURL,
		"--quota-backend-bytes=8589934592",
		"--log-level=warn",
		"--logger=zap",
	)
	if err != nil {
		return err
	}
	healthURL := clientURL + "/health"
	deadline := time.Now().Add(time.Minute)
	for {
		if done, perr := e.etcd.exited(); done {
			return fmt.Errorf("localkube: etcd exited early (%v); see %s", perr, e.logPath("etcd"))
		}
		resp, err := http.Get(healthURL) //nolint:noctx // loopback probe
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localkube: etcd not healthy after a minute; see %s", e.logPath("etcd"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitReady polls /readyz until the API server answers ok.
func (e *Env) waitReady(ctx context.Context, c *Cluster) error {
	client, err := rest.HTTPClientFor(c.Config)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	var last string
	for {
		if done, perr := c.apiserver.exited(); done {
			return fmt.Errorf("localkube: kube-apiserver of %s exited (%v); see %s", c.Name, perr, e.logPath(c.Name+"-apiserver"))
		}
		resp, err := client.Get(c.URL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localkube: %s not ready after 2 minutes (last: %s); see %s", c.Name, last, e.logPath(c.Name+"-apiserver"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *Env) logPath(name string) string { return filepath.Join(e.dir, name+".log") }

func (e *Env) logFor(opts Options, name string) (io.Writer, error) {
	if opts.Log != nil {
		return opts.Log, nil
	}
	f, err := os.Create(e.logPath(name))
	if err != nil {
		return nil, fmt.Errorf("localkube: creating log: %w", err)
	}
	e.logs = append(e.logs, f)
	return f, nil
}

func kubeconfigFor(name, url string, ca, cert, key []byte) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: ca}
	cfg.AuthInfos[name+"-admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name + "-admin"}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// KubeVersion is the kube-apiserver version the local clusters run (the Makefile's
// KUBE_VERSION; a test keeps the two equal).
const KubeVersion = "v1.36.3"

// CacheDir is the per-machine folder where hack/test-binaries.sh keeps the
// binaries it builds: $TUGBOAT_CACHE, else $XDG_CACHE_HOME/tugboat, else
// ~/.cache/tugboat (the same rule as the script).
func CacheDir() string {
	if d := os.Getenv("TUGBOAT_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "tugboat")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "tugboat-cache")
	}
	return filepath.Join(home, ".cache", "tugboat")
}

// binaries are what a bin folder must hold.
var binaries = []string{"kube-apiserver", "etcd"}

// BinDir finds the folder holding kube-apiserver and etcd, in this order: dir when
// given; $KUBEBUILDER_ASSETS; the machine's cache folder (CacheDir()/testbin/
// KubeVersion) when it holds both; inside a Tugboat checkout, the output of its
// hack/test-binaries.sh (which builds them once). Otherwise it says in one line
// which command builds them.
func BinDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if dir == "" {
		cached := filepath.Join(CacheDir(), "testbin", KubeVersion)
		if hasBinaries(cached) {
			return cached, nil
		}
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("localkube: kube-apiserver and etcd %s are not in %s: build them with `make testbin` in a Tugboat checkout (or pass their folder with --bin-dir / $KUBEBUILDER_ASSETS)", KubeVersion, cached)
		}
		out, err := exec.Command(filepath.Join(root, "hack", "test-binaries.sh")).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return "", fmt.Errorf("localkube: hack/test-binaries.sh failed: %s", ee.Stderr)
			}
			return "", fmt.Errorf("localkube: running hack/test-binaries.sh: %w", err)
		}
		dir = strings.TrimSpace(string(out))
	}
	for _, b := range binaries {
		if !fileExists(filepath.Join(dir, b)) {
			return "", fmt.Errorf("localkube: %s not found in %s: build it with `make testbin` in a Tugboat checkout", b, dir)
		}
	}
	return dir, nil
}

func hasBinaries(dir string) bool {
	for _, b := range binaries {
		if !fileExists(filepath.Join(dir, b)) {
			return false
		}
	}
	return true
}

// RepoRoot walks up from the working directory to the root of the Tugboat
// checkout holding it (the folder with hack/test-binaries.sh).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "hack", "test-binaries.sh")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the Tugboat repository")
		}
		dir = parent
	}
}
