package devplatform

// Clusters on request. The API servers of the local platform are children of
// the Serve process, so `tug dev cluster create|delete|list` ask that process
// through its control channel: an HTTP server on 127.0.0.1, whose URL and a
// random token Serve writes into control.json in Options.Dir (mode 0600, removed
// on shutdown). Every request carries the token as a bearer token; anything else
// is refused. The calls, all answering JSON ({"error": "..."} on failure):
//
//	GET    /clusters         the clusters created on request: [ClusterInfo]
//	POST   /clusters         {"name": N, "labels": {…}} → 201 ClusterInfo; 400 invalid, 409 exists
//	DELETE /clusters/{name}  → 200 once it is deregistered and stopped; 404 unknown
//
// Creating starts one more API server (localkube.Env.AddCluster), writes
// <name>.kubeconfig into Options.Dir, registers it as SveltosCluster name/name
// with the labels (clusters.Register, as `tug register cluster` does) and answers
// once the cluster is Ready. Deleting deregisters it (clusters.Deregister), waits
// until its SveltosCluster and ClusterSummaries are gone, stops its API server
// (its objects are dropped from etcd) and removes the kubeconfig file.
// `tug dev down` stops these clusters with the others.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/localkube"
)

// Errors of the cluster calls, for callers to tell them apart (errors.Is).
var (
	// ErrNotRunning: no platform process answers in Options.Dir.
	ErrNotRunning = errors.New("no local platform is running: run `tug dev up`")
	// ErrInvalidCluster: the name or labels are not acceptable.
	ErrInvalidCluster = errors.New("invalid cluster")
	// ErrClusterExists: a cluster (or registration) of that name exists.
	ErrClusterExists = errors.New("cluster exists")
	// ErrNoSuchCluster: no cluster of that name was created on request.
	ErrNoSuchCluster = errors.New("no such cluster")
)

// clusterError is an error of one of the kinds above: its message is the
// detail alone, errors.Is tells its kind.
type clusterError struct {
	kind error
	msg  string
}

func (e *clusterError) Error() string { return e.msg }
func (e *clusterError) Unwrap() error { return e.kind }

func kindError(kind error, format string, args ...any) error {
	return &clusterError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// ClusterInfo is a cluster created on request.
type ClusterInfo struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// URL is its API server's address; Kubeconfig the file holding its admin kubeconfig.
	URL        string `json:"url"`
	Kubeconfig string `json:"kubeconfig"`
}

// ValidateClusterName checks a name for a cluster created on request: it names
// the API server, the namespace and the SveltosCluster, so it must be a DNS-1123
// label, and not one of the namespaces Kubernetes keeps for itself.
func ValidateClusterName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return kindError(ErrInvalidCluster, "invalid cluster name %q: %s", name, errs[0])
	}
	if name == "default" || strings.HasPrefix(name, "kube-") {
		return kindError(ErrInvalidCluster, "invalid cluster name %q: a namespace Kubernetes keeps for itself", name)
	}
	return nil
}

func (o Options) controlFile() string { return filepath.Join(o.Dir, "control.json") }

// control is what control.json holds.
type control struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// CreateCluster asks the running platform for one more cluster (see the top of
// this file) and returns it once it is registered and Ready.
func (o Options) CreateCluster(ctx context.Context, name string, labels map[string]string) (ClusterInfo, error) {
	if err := ValidateClusterName(name); err != nil {
		return ClusterInfo{}, err
	}
	body, err := json.Marshal(map[string]any{"name": name, "labels": labels})
	if err != nil {
		return ClusterInfo{}, err
	}
	var info ClusterInfo
	err = o.call(ctx, http.MethodPost, "/clusters", body, &info)
	return info, err
}

// DeleteCluster asks the running platform to deregister and stop a cluster it
// created on request; it returns once nothing of it is left.
func (o Options) DeleteCluster(ctx context.Context, name string) error {
	if err := ValidateClusterName(name); err != nil {
		return err
	}
	return o.call(ctx, http.MethodDelete, "/clusters/"+name, nil, nil)
}

// ListClusters lists the clusters created on request, by name.
func (o Options) ListClusters(ctx context.Context) ([]ClusterInfo, error) {
	var out []ClusterInfo
	err := o.call(ctx, http.MethodGet, "/clusters", nil, &out)
	return out, err
}

// call sends one request on the control channel and decodes the answer into out.
func (o Options) call(ctx context.Context, method, path string, body []byte, out any) error {
	if _, ok := o.Running(); !ok {
		return ErrNotRunning
	}
	raw, err := os.ReadFile(o.controlFile())
	if err != nil {
		return ErrNotRunning
	}
	var ctl control
	if err := json.Unmarshal(raw, &ctl); err != nil || ctl.URL == "" {
		return fmt.Errorf("reading %s: %v", o.controlFile(), err)
	}
	req, err := http.NewRequestWithContext(ctx, method, ctl.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ctl.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return ErrNotRunning
	}
	if err != nil {
		return fmt.Errorf("asking the local platform: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		switch resp.StatusCode {
		case http.StatusBadRequest:
			return kindError(ErrInvalidCluster, "%s", e.Error)
		case http.StatusConflict:
			return kindError(ErrClusterExists, "%s", e.Error)
		case http.StatusNotFound:
			return kindError(ErrNoSuchCluster, "%s", e.Error)
		}
		return errors.New(e.Error)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// clusterControl is the Serve side of the control channel.
type clusterControl struct {
	o    Options
	env  *localkube.Env
	mgmt client.Client
	// builtIn are the platform's own clusters, which only `tug dev down` stops.
	builtIn map[string]bool

	mu      sync.Mutex // one create or delete at a time
	created map[string]ClusterInfo
}

// startControl serves the control channel and writes control.json; the
// returned function stops it and removes the file.
func startControl(o Options, env *localkube.Env, mgmt client.Client) (func(), error) {
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the control channel: %w", err)
	}
	cc := &clusterControl{o: o, env: env, mgmt: mgmt, builtIn: map[string]bool{}, created: map[string]ClusterInfo{}}
	for _, c := range env.Clusters {
		cc.builtIn[c.Name] = true
	}
	srv := &http.Server{Handler: cc.handler(hex.EncodeToString(token)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	stop := func() {
		_ = srv.Close()
		_ = os.Remove(o.controlFile())
	}
	raw, err := json.Marshal(control{URL: "http://" + l.Addr().String(), Token: hex.EncodeToString(token)})
	if err == nil {
		err = os.WriteFile(o.controlFile(), raw, 0o600)
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("writing %s: %w", o.controlFile(), err)
	}
	return stop, nil
}

func (cc *clusterControl) handler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /clusters", func(w http.ResponseWriter, _ *http.Request) {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		out := []ClusterInfo{}
		for _, info := range cc.created {
			out = append(out, info)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		answer(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /clusters", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			answerError(w, kindError(ErrInvalidCluster, "invalid request: %v", err))
			return
		}
		info, err := cc.create(r.Context(), req.Name, req.Labels)
		if err != nil {
			answerError(w, err)
			return
		}
		answer(w, http.StatusCreated, info)
	})
	mux.HandleFunc("DELETE /clusters/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := cc.delete(r.Context(), r.PathValue("name")); err != nil {
			answerError(w, err)
			return
		}
		answer(w, http.StatusOK, map[string]string{})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			answer(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong token (see control.json)"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func answerError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalidCluster):
		status = http.StatusBadRequest
	case errors.Is(err, ErrClusterExists):
		status = http.StatusConflict
	case errors.Is(err, ErrNoSuchCluster):
		status = http.StatusNotFound
	}
	answer(w, status, map[string]string{"error": err.Error()})
}

// create starts, registers and waits for one cluster; on failure it undoes
// what it did.
func (cc *clusterControl) create(ctx context.Context, name string, labels map[string]string) (info ClusterInfo, err error) {
	if err := ValidateClusterName(name); err != nil {
		return info, err
	}
	var labelErrs []string
	for k, v := range labels {
		for _, e := range validation.IsQualifiedName(k) {
			labelErrs = append(labelErrs, fmt.Sprintf("label key %q: %s", k, e))
		}
		for _, e := range validation.IsValidLabelValue(v) {
			labelErrs = append(labelErrs, fmt.Sprintf("label value %q of %q: %s", v, k, e))
		}
	}
	if len(labelErrs) > 0 {
		sort.Strings(labelErrs)
		return info, kindError(ErrInvalidCluster, "invalid labels: %s", strings.Join(labelErrs, "; "))
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	ref := types.NamespacedName{Namespace: name, Name: name}
	if cc.env.Cluster(name) != nil {
		return info, kindError(ErrClusterExists, "cluster %s exists", name)
	}
	switch err := cc.mgmt.Get(ctx, ref, &libv1beta1.SveltosCluster{}); {
	case err == nil:
		return info, kindError(ErrClusterExists, "cluster %s exists: SveltosCluster %s is registered already", name, ref)
	case !apierrors.IsNotFound(err):
		return info, fmt.Errorf("reading SveltosCluster %s: %w", ref, err)
	}

	c, err := cc.env.AddCluster(ctx, name)
	if err != nil {
		return info, err
	}
	defer func() {
		if err != nil {
			_ = clusters.Deregister(context.WithoutCancel(ctx), cc.mgmt, ref)
			_ = cc.env.RemoveCluster(context.WithoutCancel(ctx), name)
			_ = os.Remove(cc.o.KubeconfigPath(name))
		}
	}()
	if err = os.WriteFile(cc.o.KubeconfigPath(name), c.Kubeconfig, 0o600); err != nil {
		return info, err
	}
	if _, err = clusters.Register(ctx, cc.mgmt, clusters.Registration{Namespace: name, Name: name, Kubeconfig: c.Kubeconfig, Labels: labels}); err != nil {
		return info, err
	}
	if err = poll(ctx, 2*time.Minute, "SveltosCluster "+ref.String()+" to be Ready", func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := cc.mgmt.Get(ctx, ref, sc); err != nil {
			return err
		}
		if !sc.Status.Ready {
			return errors.New("not ready")
		}
		return nil
	}); err != nil {
		return info, err
	}
	info = ClusterInfo{Name: name, Labels: labels, URL: c.URL, Kubeconfig: cc.o.KubeconfigPath(name)}
	cc.created[name] = info
	return info, nil
}

// delete deregisters a cluster created on request, waits until the registry
// holds nothing of it, then stops its API server.
func (cc *clusterControl) delete(ctx context.Context, name string) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if _, ok := cc.created[name]; !ok {
		if cc.builtIn[name] {
			return kindError(ErrNoSuchCluster, "%s is one of the platform's own clusters; `tug dev down` stops them", name)
		}
		return kindError(ErrNoSuchCluster, "no cluster %s was created with `tug dev cluster create`", name)
	}
	ref := types.NamespacedName{Namespace: name, Name: name}
	if err := clusters.Deregister(ctx, cc.mgmt, ref); err != nil {
		return err
	}
	if err := poll(ctx, 2*time.Minute, "the registry to forget "+ref.String(), func() error {
		return leftInRegistry(ctx, cc.mgmt, ref)
	}); err != nil {
		return err
	}
	if err := cc.env.RemoveCluster(ctx, name); err != nil {
		return err
	}
	delete(cc.created, name)
	if err := os.Remove(cc.o.KubeconfigPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// leftInRegistry says what the management cluster still holds of a cluster: its
// SveltosCluster, its kubeconfig Secret, ClusterSummaries for it. nil when nothing.
func leftInRegistry(ctx context.Context, mgmt client.Client, ref types.NamespacedName) error {
	var left []string
	switch err := mgmt.Get(ctx, ref, &libv1beta1.SveltosCluster{}); {
	case err == nil:
		left = append(left, "SveltosCluster "+ref.String())
	case !apierrors.IsNotFound(err):
		return err
	}
	secret := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name + libv1beta1.KubeconfigSecretSuffix}
	switch err := mgmt.Get(ctx, secret, &corev1.Secret{}); {
	case err == nil:
		left = append(left, "Secret "+secret.String())
	case !apierrors.IsNotFound(err):
		return err
	}
	summaries := &configv1beta1.ClusterSummaryList{}
	if err := mgmt.List(ctx, summaries, client.InNamespace(ref.Namespace)); err != nil {
		return err
	}
	for _, s := range summaries.Items {
		if s.Spec.ClusterName == ref.Name {
			left = append(left, "ClusterSummary "+s.Namespace+"/"+s.Name)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("still there: %s", strings.Join(left, ", "))
	}
	return nil
}

// poll calls check every 200ms until it returns nil, for at most limit.
func poll(ctx context.Context, limit time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
