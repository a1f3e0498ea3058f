package devplatform

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/examples"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// Tutorial plays the database-as-a-service tutorial on the local platform: the
// tutorial's four manifests (only the chart repository URL pointed at the local
// chart repository), the workload cluster asking for a database and becoming an
// app cluster, and at the end a connection to the database with the credentials
// that travelled through the platform, creating the tutorial's Todo table.
type Tutorial struct {
	Options Options
	// Fixtures holds the tutorial's manifests (default: examples.DBaaS(), the
	// copy inside the binary).
	Fixtures fs.FS
	// Platform is the starter layout of `tug init platform` (README.md and
	// platform/), which the GitOps act pushes and bootstraps.
	Platform fs.FS
	// Out receives the progress.
	Out io.Writer
}

// Run plays every step; it is safe to run again.
func (t *Tutorial) Run(ctx context.Context) error {
	mgmt, workload, err := t.clients()
	if err != nil {
		return err
	}
	repoURL, err := t.chartRepository()
	if err != nil {
		return err
	}

	t.say("1. management cluster mgmt/mgmt labelled type=mgmt, services cluster labelled type=services (done by tug dev up)")
	t.say("2. cloudnative-pg.yaml: the database operator's chart for every type=services cluster (chart from %s)", repoURL)
	if err := t.applyManifests(ctx, mgmt, repoURL, "cloudnative-pg.yaml"); err != nil {
		return err
	}
	if err := t.wait(ctx, "cnpg chart Provisioned on services", func() error {
		return provisioned(ctx, mgmt, "services", configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "deploy-cnpg", "services"), libv1beta1.FeatureHelm)
	}); err != nil {
		return err
	}

	t.say("3. auto-deploy-postgres-cluster.yaml + fetch-postgres-data.yaml; the workload cluster asks for a database (postgres=required)")
	if err := t.applyManifests(ctx, mgmt, repoURL, "auto-deploy-postgres-cluster.yaml", "fetch-postgres-data.yaml"); err != nil {
		return err
	}
	if err := label(ctx, mgmt, "workload", "workload", "postgres", "required"); err != nil {
		return err
	}

	t.say("4. the database operator (stand-in) provisions it; credentials and address travel back to the management cluster")
	creds := &corev1.Secret{}
	lb := &corev1.ConfigMap{}
	if err := t.wait(ctx, "pg-credentials and pg-loadbalancer-data in workload namespace of mgmt", func() error {
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "workload", Name: "pg-credentials"}, creds); err != nil {
			return err
		}
		return mgmt.Get(ctx, types.NamespacedName{Namespace: "workload", Name: "pg-loadbalancer-data"}, lb)
	}); err != nil {
		return err
	}

	t.say("5. job-to-create-table.yaml; the workload cluster becomes an app cluster (type=app)")
	if err := t.applyManifests(ctx, mgmt, repoURL, "job-to-create-table.yaml"); err != nil {
		return err
	}
	if err := label(ctx, mgmt, "workload", "workload", "type", "app"); err != nil {
		return err
	}
	if err := t.wait(ctx, "Job todo/todo-table in the workload cluster", func() error {
		return workload.Get(ctx, types.NamespacedName{Namespace: "todo", Name: "todo-table"}, &batchv1.Job{})
	}); err != nil {
		return err
	}

	t.say("6. what the Job would do on a real node: connect with the delivered credentials and create the Todo table")
	dsn := fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=todo sslmode=disable",
		lb.Data["external-ip"], lb.Data["port"], creds.Data["user"], creds.Data["password"])
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting to the database with the delivered credentials: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `create table if not exists Todo (id bigint not null, completed boolean not null, ordering integer, title varchar(255), url varchar(255), primary key (id))`); err != nil {
		return fmt.Errorf("creating the Todo table: %w", err)
	}
	fmt.Fprintf(t.Out, "Todo table created in database todo at %s:%s as user %s, with the credentials delivered by the platform.\n",
		lb.Data["external-ip"], lb.Data["port"], creds.Data["user"])
	return nil
}

func (t *Tutorial) say(format string, args ...any) { fmt.Fprintf(t.Out, "== "+format+"\n", args...) }

// clients connects to the management and the workload cluster.
func (t *Tutorial) clients() (mgmt, workload client.Client, err error) {
	if mgmt, err = t.client("mgmt"); err != nil {
		return nil, nil, err
	}
	if workload, err = t.client("workload"); err != nil {
		return nil, nil, err
	}
	return mgmt, workload, nil
}

func (t *Tutorial) client(cluster string) (client.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", t.Options.KubeconfigPath(cluster))
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig of %s (is `tug dev up` running?): %w", cluster, err)
	}
	return client.New(cfg, client.Options{Scheme: api.NewScheme()})
}

// chartRepository is the URL of the local platform's chart repository, which
// tug dev up writes into chartrepo.url.
func (t *Tutorial) chartRepository() (string, error) {
	url, err := os.ReadFile(filepath.Join(t.Options.Dir, "chartrepo.url"))
	if err != nil {
		return "", fmt.Errorf("the local platform's chart repository is unknown (is `tug dev up` running?): %w", err)
	}
	return strings.TrimSpace(string(url)), nil
}

// chartRepositoryURL matches a Helm chart's repositoryURL field and its value.
var chartRepositoryURL = regexp.MustCompile(`(repositoryURL:\s*)\S+`)

// pointChartsAt points every repositoryURL of the YAML data at chartRepo.
func pointChartsAt(data []byte, chartRepo string) []byte {
	return chartRepositoryURL.ReplaceAll(data, []byte("${1}"+chartRepo))
}

// applyManifests applies the tutorial's manifests named, in order, to mgmt,
// with their charts' repositoryURL pointed at chartRepo.
func (t *Tutorial) applyManifests(ctx context.Context, mgmt client.Client, chartRepo string, names ...string) error {
	for _, name := range names {
		m, err := t.manifest(name)
		if err != nil {
			return err
		}
		if err := apply(ctx, mgmt, pointChartsAt(m, chartRepo)); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tutorial) manifest(name string) ([]byte, error) {
	fixtures := t.Fixtures
	if fixtures == nil {
		fixtures = examples.DBaaS()
	}
	b, err := fs.ReadFile(fixtures, name)
	if err != nil {
		return nil, fmt.Errorf("reading the tutorial's manifest: %w", err)
	}
	return b, nil
}

// wait polls check, printing progress every few seconds, for at most 3 minutes.
func (t *Tutorial) wait(ctx context.Context, what string, check func() error) error {
	start := time.Now()
	last := start
	for {
		err := check()
		if err == nil {
			fmt.Fprintf(t.Out, "   ok: %s (%.1fs)\n", what, time.Since(start).Seconds())
			return nil
		}
		if time.Since(start) > 3*time.Minute {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if time.Since(last) > 5*time.Second {
			fmt.Fprintf(t.Out, "   waiting for %s: %v\n", what, err)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// apply server-side applies every document of a manifest (re-running is safe).
func apply(ctx context.Context, c client.Client, manifest []byte) error {
	return templating.EachObject(manifest, func(obj *unstructured.Unstructured) error {
		if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner("tug-tutorial"), client.ForceOwnership); err != nil { //nolint:staticcheck // unstructured apply
			return fmt.Errorf("applying %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		return nil
	})
}

func label(ctx context.Context, c client.Client, namespace, name, key, value string) error {
	return clusters.SetLabels(ctx, c, types.NamespacedName{Namespace: namespace, Name: name}, map[string]string{key: value})
}

func provisioned(ctx context.Context, c client.Client, namespace, name string, feature libv1beta1.FeatureID) error {
	s := &configv1beta1.ClusterSummary{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, s); err != nil {
		return err
	}
	fs := s.FeatureSummary(feature)
	if fs == nil || fs.Status != libv1beta1.FeatureStatusProvisioned {
		if fs != nil && fs.FailureMessage != nil {
			return fmt.Errorf("%s: %s", fs.Status, *fs.FailureMessage)
		}
		return fmt.Errorf("%s not provisioned yet", feature)
	}
	return nil
}
