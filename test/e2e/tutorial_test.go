package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// workloadCluster is a cluster asking for a database in the tutorial.
type workloadCluster struct {
	env       string // name of the test API server
	ref       types.NamespacedName
	password  string
	ip        string
	dbCluster types.NamespacedName // the postgresql.cnpg.io Cluster in the services cluster
}

func newWorkload(envName, namespace, password, ip string) workloadCluster {
	return workloadCluster{
		env: envName, ref: types.NamespacedName{Namespace: namespace, Name: envName}, password: password, ip: ip,
		dbCluster: types.NamespacedName{Namespace: namespace, Name: "cluster-" + envName},
	}
}

// The database-as-a-service tutorial (the seven steps at the end of
// spec/events.md) with the four manifests of fixtures/dbaas applied unchanged
// but for the chart repository URL, the test playing the database operator;
// then a second workload cluster gets its own database, credentials and Job,
// and withdrawing the first leaves the second's in place.
func TestDatabaseAsAServiceTutorial(t *testing.T) {
	ctx := context.Background()
	services := clusterClient(t, "services")

	// 1. The management cluster is mgmt/mgmt labelled type=mgmt; a services cluster with type=services.
	mgmtRef := types.NamespacedName{Namespace: "mgmt", Name: "mgmt"}
	if err := clusters.EnsureManagementCluster(ctx, mgmt, mgmtRef); err != nil {
		t.Fatal(err)
	}
	setLabels(t, mgmtRef, map[string]string{"type": "mgmt"})
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: "services", Name: "services",
		Kubeconfig: env.Cluster("services").Kubeconfig, Labels: map[string]string{"type": "services"}}); err != nil {
		t.Fatal(err)
	}

	// 2. cloudnative-pg.yaml: the chart (a stand-in of the same name and version) on the services cluster.
	repo := chartrepo.Start(t, filepath.Join("..", "charts"))
	const upstream = "https://cloudnative-pg.github.io/charts"
	manifest := string(readFixture(t, "cloudnative-pg.yaml"))
	if !strings.Contains(manifest, upstream) {
		t.Fatalf("cloudnative-pg.yaml does not use %s", upstream)
	}
	applyYAML(t, []byte(strings.Replace(manifest, upstream, repo.URL, 1)))
	testenv.Eventually(t, "cnpg release and Cluster CRD in the services cluster", func() error {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := services.Get(ctx, client.ObjectKey{Name: "clusters.postgresql.cnpg.io"}, crd); err != nil {
			return err
		}
		releases := &corev1.SecretList{}
		if err := services.List(ctx, releases, client.InNamespace("cnpg-system"), client.MatchingLabels{"owner": "helm", "name": "cnpg"}); err != nil {
			return err
		}
		if len(releases.Items) == 0 {
			return fmt.Errorf("no cnpg release yet")
		}
		return nil
	})

	// 3. The event-driven manifests, then a workload cluster requiring postgres.
	applyYAML(t, readFixture(t, "auto-deploy-postgres-cluster.yaml"))
	applyYAML(t, readFixture(t, "fetch-postgres-data.yaml"))
	first := newWorkload("workload", "coke", "first-password", "10.0.0.11")
	second := newWorkload("workload2", "pepsi", "second-password", "10.0.0.12")
	register(t, first)
	waitDatabase(t, services, first)

	// 4. The database operator's outputs appear; the credentials reach the management cluster.
	playOperator(t, services, first)
	waitCopies(t, first)

	// 5. The Job profile, and the workload cluster labelled type=app.
	applyYAML(t, readFixture(t, "job-to-create-table.yaml"))
	setLabels(t, first.ref, map[string]string{"type": "app"})
	waitJob(t, first)

	// 6. Every ClusterSummary is Provisioned; tug show addons lists the chart and each resource.
	waitAllProvisioned(t)
	tug := buildTug(t)
	testenv.Eventually(t, "tug show addons lists the chart, the database and the Job", func() error {
		rows, err := showAddons(tug)
		if err != nil {
			return err
		}
		for _, want := range []addonRow{
			{Cluster: "services/services", ResourceType: "helm chart", Namespace: "cnpg-system", Name: "cnpg", Version: "0.27.1", Profiles: []string{"ClusterProfile/deploy-cnpg"}},
			{Cluster: "services/services", ResourceType: "postgresql.cnpg.io:Cluster", Namespace: first.dbCluster.Namespace, Name: first.dbCluster.Name},
			{Cluster: "mgmt/mgmt", ResourceType: ":Secret", Namespace: first.ref.Namespace, Name: "pg-credentials"},
			{Cluster: "coke/workload", ResourceType: "batch:Job", Namespace: "todo", Name: "todo-table", Profiles: []string{"ClusterProfile/deploy-job"}},
		} {
			if !hasRow(rows, want) {
				return fmt.Errorf("no row like %+v in %+v", want, rows)
			}
		}
		return nil
	})

	// A second workload cluster in another namespace gets its own database, credentials and Job.
	register(t, second)
	setLabels(t, second.ref, map[string]string{"type": "app"})
	waitDatabase(t, services, second)
	playOperator(t, services, second)
	waitCopies(t, second)
	waitJob(t, second)
	waitAllProvisioned(t)

	// The dashboard, in a real browser, shows the first workload cluster's Job
	// and the profiles generated for it; removing type=app takes the Job off
	// the open page, and the Job's profile explains why (dashboard_test.go).
	dashboardFollowsTheTutorial(t, first)
	waitJob(t, second)

	// 7. Removing postgres=required withdraws the first's database and, once the
	// operator has removed its outputs, the copied credentials; the second's stay.
	setLabels(t, first.ref, map[string]string{"postgres": ""})
	testenv.Eventually(t, "database Cluster of the first workload withdrawn", func() error {
		return notFound(services, dbCluster(), first.dbCluster)
	})
	operatorCleansUp(t, services, first)
	testenv.Eventually(t, "copies of the first workload withdrawn", func() error {
		if err := notFound(mgmt, &corev1.Secret{}, types.NamespacedName{Namespace: first.ref.Namespace, Name: "pg-credentials"}); err != nil {
			return err
		}
		return notFound(mgmt, &corev1.ConfigMap{}, types.NamespacedName{Namespace: first.ref.Namespace, Name: "pg-loadbalancer-data"})
	})
	if err := services.Get(ctx, second.dbCluster, dbCluster()); err != nil {
		t.Fatalf("the second workload's database: %v", err)
	}
	waitCopies(t, second)
	waitJob(t, second)

	// 8. The manager recorded what the tutorial did: event-to-deploy latencies (the
	// credentials and address copied into the management cluster are event-driven
	// deploys) and deploy durations.
	checkLatencyMetrics(t)

	// 9. No secret value left its Secret: not in the manager's log (at its most
	// verbose), an Event, an EventReport or any other object in any cluster —
	// but for the Job, whose manifest puts the password in its environment.
	values := []secretValue{{"the first database password", first.password}, {"the second database password", second.password}}
	for _, c := range clusterNames {
		values = append(values, kubeconfigKeyLine(t, c))
	}
	assertNoSecretValues(t, values, func(cluster string, gvr schema.GroupVersionResource, u *unstructured.Unstructured) bool {
		return gvr.Group == "batch" && gvr.Resource == "jobs" && u.GetNamespace() == "todo" && u.GetName() == "todo-table"
	})
}

// checkLatencyMetrics fails t unless the manager's latency histograms have samples.
func checkLatencyMetrics(t *testing.T) {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				counts[f.GetName()] += h.GetSampleCount()
			}
		}
	}
	for _, name := range []string{"tugboat_event_to_deploy_seconds", "tugboat_deploy_duration_seconds"} {
		if counts[name] == 0 {
			t.Errorf("%s has no samples after the tutorial (histograms: %v)", name, counts)
		}
	}
}

func dbCluster() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("postgresql.cnpg.io/v1")
	u.SetKind("Cluster")
	return u
}

func register(t *testing.T, w workloadCluster) {
	t.Helper()
	if _, err := clusters.Register(context.Background(), mgmt, clusters.Registration{Namespace: w.ref.Namespace, Name: w.ref.Name,
		Kubeconfig: env.Cluster(w.env).Kubeconfig, Labels: map[string]string{"postgres": "required"}}); err != nil {
		t.Fatal(err)
	}
}

// waitDatabase waits for the postgresql.cnpg.io Cluster of a workload cluster in the services cluster.
func waitDatabase(t *testing.T, services client.Client, w workloadCluster) {
	t.Helper()
	testenv.Eventually(t, "database Cluster "+w.dbCluster.String()+" in the services cluster", func() error {
		u := dbCluster()
		if err := services.Get(context.Background(), w.dbCluster, u); err != nil {
			return err
		}
		if got := u.GetLabels()["cluster"]; got != w.ref.Namespace+"-"+w.ref.Name {
			return fmt.Errorf("label cluster=%q", got)
		}
		return nil
	})
}

// playOperator creates what CloudNativePG would: the application Secret and
// the load-balancer Service, with its ingress IP in status.
func playOperator(t *testing.T, services client.Client, w workloadCluster) {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.dbCluster.Namespace, Name: w.dbCluster.Name + "-app", Labels: map[string]string{"cnpg.io/reload": "true"}},
		Data:       map[string][]byte{"username": []byte("todo"), "password": []byte(w.password)},
	}
	if err := services.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.dbCluster.Namespace, Name: "cluster-rw-lb", Labels: map[string]string{"cnpg.io/isManaged": "true"}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"cnpg.io/cluster": w.dbCluster.Name},
			Ports:    []corev1.ServicePort{{Name: "postgres", Port: 5432, TargetPort: intstr.FromInt32(5432)}},
		},
	}
	if err := services.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: w.ip}}
	if err := services.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
}

func operatorCleansUp(t *testing.T, services client.Client, w workloadCluster) {
	t.Helper()
	ctx := context.Background()
	for _, o := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.dbCluster.Namespace, Name: w.dbCluster.Name + "-app"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: w.dbCluster.Namespace, Name: "cluster-rw-lb"}},
	} {
		if err := services.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
			t.Fatal(err)
		}
	}
}

// waitCopies waits for pg-credentials and pg-loadbalancer-data in the workload cluster's namespace of the management cluster.
func waitCopies(t *testing.T, w workloadCluster) {
	t.Helper()
	testenv.Eventually(t, "pg-credentials and pg-loadbalancer-data in "+w.ref.Namespace, func() error {
		s := &corev1.Secret{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: w.ref.Namespace, Name: "pg-credentials"}, s); err != nil {
			return err
		}
		if string(s.Data["user"]) != "todo" || string(s.Data["password"]) != w.password {
			return fmt.Errorf("pg-credentials data %q", s.Data)
		}
		cm := &corev1.ConfigMap{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: w.ref.Namespace, Name: "pg-loadbalancer-data"}, cm); err != nil {
			return err
		}
		if cm.Data["external-ip"] != w.ip || cm.Data["port"] != "5432" {
			return fmt.Errorf("pg-loadbalancer-data data %v", cm.Data)
		}
		return nil
	})
}

// waitJob waits for Job todo/todo-table in the workload cluster, carrying the decoded credentials.
func waitJob(t *testing.T, w workloadCluster) {
	t.Helper()
	c := clusterClient(t, w.env)
	testenv.Eventually(t, "Job todo/todo-table in "+w.env, func() error {
		job := &batchv1.Job{}
		if err := c.Get(context.Background(), types.NamespacedName{Namespace: "todo", Name: "todo-table"}, job); err != nil {
			return err
		}
		ctr := job.Spec.Template.Spec.Containers[0]
		if len(ctr.Env) == 0 || ctr.Env[0].Value != w.password {
			return fmt.Errorf("env %+v, want PGPASSWORD=%s", ctr.Env, w.password)
		}
		args := strings.Join(ctr.Args, " ")
		for _, want := range []string{"--host=" + w.ip, "--port=5432", "--username=todo"} {
			if !strings.Contains(args, want) {
				return fmt.Errorf("args %q lack %s", args, want)
			}
		}
		return nil
	})
}

// waitAllProvisioned waits until every feature of every ClusterSummary is Provisioned.
func waitAllProvisioned(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, "every ClusterSummary Provisioned", func() error {
		list := &configv1beta1.ClusterSummaryList{}
		if err := mgmt.List(context.Background(), list); err != nil {
			return err
		}
		if len(list.Items) == 0 {
			return fmt.Errorf("no ClusterSummaries")
		}
		for _, s := range list.Items {
			if len(s.Status.FeatureSummaries) == 0 {
				return fmt.Errorf("%s/%s: no feature deployed yet", s.Namespace, s.Name)
			}
			for _, fs := range s.Status.FeatureSummaries {
				if fs.Status != libv1beta1.FeatureStatusProvisioned {
					msg := ""
					if fs.FailureMessage != nil {
						msg = *fs.FailureMessage
					}
					return fmt.Errorf("%s/%s %s is %s %s", s.Namespace, s.Name, fs.FeatureID, fs.Status, msg)
				}
			}
		}
		return nil
	})
}

// addonRow is a row of `tug show addons -o json`.
type addonRow struct {
	Cluster      string   `json:"cluster"`
	ResourceType string   `json:"resourceType"`
	Namespace    string   `json:"namespace,omitempty"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Time         string   `json:"time,omitempty"`
	Profiles     []string `json:"profiles"`
}

// hasRow reports whether a row matches want's cluster, type, namespace and
// name, and (when set in want) its version and profiles.
func hasRow(rows []addonRow, want addonRow) bool {
	for _, r := range rows {
		if r.Cluster != want.Cluster || r.ResourceType != want.ResourceType || r.Namespace != want.Namespace || r.Name != want.Name {
			continue
		}
		if want.Version != "" && r.Version != want.Version {
			continue
		}
		if want.Profiles != nil && strings.Join(r.Profiles, ",") != strings.Join(want.Profiles, ",") {
			continue
		}
		return true
	}
	return false
}

// buildTug builds the tug command line into the test's temporary folder.
func buildTug(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tug")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tug")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building tug: %v\n%s", err, out)
	}
	return bin
}

func showAddons(tug string) ([]addonRow, error) {
	cmd := exec.Command(tug, "show", "addons", "--kubeconfig", env.Management().KubeconfigPath, "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tug show addons: %w: %s", err, stderr.String())
	}
	var rows []addonRow
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		return nil, fmt.Errorf("tug show addons output: %w", err)
	}
	return rows, nil
}
