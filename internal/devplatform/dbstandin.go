package devplatform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// cnpgClusters is the resource the database operator of the tutorial serves.
var cnpgClusters = schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}

// DatabaseStandIn plays the database operator of the tutorial in the services
// cluster (the real one needs nodes to run PostgreSQL pods): for every
// postgresql.cnpg.io/v1 Cluster it starts a real PostgreSQL server on this
// machine (Debian's postgresql, through hack/postgres.sh), creates the
// database and an application role with a password, and publishes what the
// operator would — a Secret labelled cnpg.io/reload=true with username and
// password, and a LoadBalancer Service labelled cnpg.io/isManaged=true whose
// ingress is 127.0.0.1 and whose targetPort is the server's port.
type DatabaseStandIn struct {
	// Services is the services cluster.
	Services *rest.Config
	// Dir holds one PostgreSQL data folder per Cluster.
	Dir string
	// Script is hack/postgres.sh.
	Script string
	// Poll is how often the Clusters are listed (default 1s).
	Poll time.Duration

	mu    sync.Mutex
	ready map[string]published // by namespace-name of the Cluster
}

// published is what the stand-in published for a Cluster: its Secret and Service.
type published struct {
	namespace, secret, service string
}

// Run serves Clusters until ctx ends, then stops the servers it started.
func (d *DatabaseStandIn) Run(ctx context.Context) error {
	if d.Poll == 0 {
		d.Poll = time.Second
	}
	d.ready = map[string]published{}
	dyn, err := dynamic.NewForConfig(d.Services)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(d.Services)
	if err != nil {
		return err
	}
	defer d.stopAll()
	for {
		list, err := dyn.Resource(cnpgClusters).List(ctx, metav1.ListOptions{})
		switch {
		case err == nil:
			d.sync(ctx, cs, list.Items)
		case apierrors.IsNotFound(err):
			// the operator's CRD (from the cloudnative-pg chart) is not installed yet
		case ctx.Err() == nil:
			klog.Background().Error(err, "database stand-in: listing Clusters")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d.Poll):
		}
	}
}

func (d *DatabaseStandIn) sync(ctx context.Context, cs kubernetes.Interface, items []unstructured.Unstructured) {
	seen := map[string]bool{}
	for i := range items {
		c := &items[i]
		key := c.GetNamespace() + "-" + c.GetName()
		seen[key] = true
		d.mu.Lock()
		_, done := d.ready[key]
		d.mu.Unlock()
		if done {
			continue
		}
		p, err := d.provision(ctx, cs, c)
		if err != nil {
			klog.Background().Error(err, "database stand-in: provisioning", "cluster", key)
			continue
		}
		d.mu.Lock()
		d.ready[key] = p
		d.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for key, p := range d.ready {
		if !seen[key] {
			// The Cluster was deleted: Kubernetes' garbage collector would remove
			// the Secret and Service it owned (no controller-manager runs here),
			// the operator its database.
			if err := cs.CoreV1().Secrets(p.namespace).Delete(ctx, p.secret, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				klog.Background().Error(err, "database stand-in: removing the Secret of a deleted Cluster", "cluster", key)
				continue
			}
			if err := cs.CoreV1().Services(p.namespace).Delete(ctx, p.service, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				klog.Background().Error(err, "database stand-in: removing the Service of a deleted Cluster", "cluster", key)
				continue
			}
			_ = exec.Command(d.Script, "stop", filepath.Join(d.Dir, key)).Run()
			_ = os.RemoveAll(filepath.Join(d.Dir, key))
			for _, f := range []string{key + ".port", key + ".password"} {
				_ = os.Remove(filepath.Join(d.Dir, f))
			}
			delete(d.ready, key)
		}
	}
}

// provision starts the server of one Cluster and publishes its Secret and Service.
func (d *DatabaseStandIn) provision(ctx context.Context, cs kubernetes.Interface, c *unstructured.Unstructured) (published, error) {
	key := c.GetNamespace() + "-" + c.GetName()
	dir := filepath.Join(d.Dir, key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return published{}, err
	}
	if err := os.Chmod(d.Dir, 0o755); err != nil {
		return published{}, err
	}
	port, err := persisted(filepath.Join(d.Dir, key+".port"), func() (string, error) {
		p, err := freeTCPPort()
		return strconv.Itoa(p), err
	})
	if err != nil {
		return published{}, err
	}
	password, err := persisted(filepath.Join(d.Dir, key+".password"), func() (string, error) {
		b := make([]byte, 12)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		return published{}, err
	}
	out, err := exec.CommandContext(ctx, d.Script, "start", dir, port, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return published{}, fmt.Errorf("starting PostgreSQL for %s: %v: %s", key, err, out)
	}
	database, _, _ := unstructured.NestedString(c.Object, "spec", "bootstrap", "initdb", "database")
	if database == "" {
		database = "app"
	}
	owner, _, _ := unstructured.NestedString(c.Object, "spec", "bootstrap", "initdb", "owner")
	if owner == "" {
		owner = database
	}
	if err := d.createDatabase(ctx, dir, port, database, owner, password); err != nil {
		return published{}, fmt.Errorf("creating database %s for %s: %w", database, key, err)
	}
	if err := requirePasswords(dir); err != nil {
		return published{}, err
	}
	return publish(ctx, cs, c, owner, password, database, port)
}

// createDatabase connects as the superuser over the server's private socket.
func (d *DatabaseStandIn) createDatabase(ctx context.Context, dir, port, database, role, password string) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=disable", dir, port))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists); err != nil {
		return err
	}
	ident := pgx.Identifier{role}.Sanitize()
	// Passwords cannot be bound parameters in DDL; this one is hex we generated.
	if exists {
		_, err = conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s WITH LOGIN PASSWORD '%s'", ident, password))
	} else {
		_, err = conn.Exec(ctx, fmt.Sprintf("CREATE ROLE %s WITH LOGIN PASSWORD '%s'", ident, password))
	}
	if err != nil {
		return err
	}
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER %s", pgx.Identifier{database}.Sanitize(), ident)); err != nil {
			return err
		}
	}
	return nil
}

// requirePasswords makes TCP connections authenticate with a password (the
// private socket stays trusted for the stand-in itself) and reloads the server.
func requirePasswords(dir string) error {
	hba := filepath.Join(dir, "data", "pg_hba.conf")
	content := "# written by the Tugboat database stand-in\nlocal all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(hba, []byte(content), 0o600); err != nil {
		return err
	}
	if os.Getuid() == 0 {
		_ = exec.Command("chown", "postgres:", hba).Run()
	}
	pid, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(pid), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return err
	}
	p, err := os.FindProcess(n)
	if err != nil {
		return err
	}
	return p.Signal(syscall.SIGHUP)
}

// publish writes the Secret and Service the operator would.
func publish(ctx context.Context, cs kubernetes.Interface, c *unstructured.Unstructured, user, password, database, port string) (published, error) {
	ns, name := c.GetNamespace(), c.GetName()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-app", Labels: map[string]string{"cnpg.io/reload": "true", "cnpg.io/cluster": name}},
		Type:       corev1.SecretTypeBasicAuth,
		StringData: map[string]string{"username": user, "password": password, "dbname": database, "host": "127.0.0.1", "port": port},
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return published{}, fmt.Errorf("publishing Secret %s/%s: %w", ns, secret.Name, err)
	}
	svcName := name + "-rw-lb"
	if extra, _, _ := unstructured.NestedSlice(c.Object, "spec", "managed", "services", "additional"); len(extra) > 0 {
		if n, _, _ := unstructured.NestedString(extra[0].(map[string]any), "serviceTemplate", "metadata", "name"); n != "" {
			svcName = n
		}
	}
	p, _ := strconv.Atoi(port)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svcName, Labels: map[string]string{"cnpg.io/isManaged": "true", "cnpg.io/cluster": name}},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "postgres", Port: 5432, TargetPort: intstr.FromInt32(int32(p))}},
		},
	}
	created, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = cs.CoreV1().Services(ns).Get(ctx, svcName, metav1.GetOptions{})
	}
	if err != nil {
		return published{}, fmt.Errorf("publishing Service %s/%s: %w", ns, svcName, err)
	}
	created.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "127.0.0.1"}}
	if _, err := cs.CoreV1().Services(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return published{}, fmt.Errorf("publishing the address of Service %s/%s: %w", ns, svcName, err)
	}
	return published{namespace: ns, secret: secret.Name, service: svcName}, nil
}

func (d *DatabaseStandIn) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for key := range d.ready {
		_ = exec.Command(d.Script, "stop", filepath.Join(d.Dir, key)).Run()
	}
}

// persisted returns the content of file, creating it with make() the first time,
// so that a re-run keeps ports and passwords.
func persisted(file string, make func() (string, error)) (string, error) {
	if b, err := os.ReadFile(file); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	v, err := make()
	if err != nil {
		return "", err
	}
	return v, os.WriteFile(file, []byte(v), 0o600)
}

// freeTCPPort asks the kernel for an unused loopback port.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
