package devplatform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/internal/devplatform"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"services"}}, &env))
}

// The stand-in turns a tutorial Cluster into a real PostgreSQL database whose
// credentials and address it publishes as the operator would; the published
// credentials open the database, wrong ones do not.
func TestDatabaseStandIn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := env.Cluster("services").Config
	installCNPGCRD(t)

	dir, err := os.MkdirTemp("", "dbstandin-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	standIn := &devplatform.DatabaseStandIn{Services: cfg, Dir: dir, Script: filepath.Join("..", "..", "hack", "postgres.sh")}
	done := make(chan error, 1)
	go func() { done <- standIn.Run(ctx) }()
	defer func() { cancel(); <-done }()

	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "workload"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cluster := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: cluster-workload, namespace: workload}
spec:
  instances: 3
  bootstrap: {initdb: {database: todo}}
  managed:
    services:
      additional:
      - selectorType: rw
        serviceTemplate: {metadata: {name: cluster-rw-lb}, spec: {type: LoadBalancer}}
`), &cluster.Object); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}
	if _, err := dynamic.NewForConfigOrDie(cfg).Resource(gvr).Namespace("workload").Create(ctx, cluster, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	var secret *corev1.Secret
	var svc *corev1.Service
	testenv.Eventually(t, "Secret and Service published", func() (err error) {
		if secret, err = cs.CoreV1().Secrets("workload").Get(ctx, "cluster-workload-app", metav1.GetOptions{}); err != nil {
			return err
		}
		if svc, err = cs.CoreV1().Services("workload").Get(ctx, "cluster-rw-lb", metav1.GetOptions{}); err != nil {
			return err
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return fmt.Errorf("no ingress yet")
		}
		return nil
	})
	if secret.Labels["cnpg.io/reload"] != "true" || svc.Labels["cnpg.io/isManaged"] != "true" {
		t.Errorf("labels: secret %v service %v", secret.Labels, svc.Labels)
	}
	host, port := svc.Status.LoadBalancer.Ingress[0].IP, svc.Spec.Ports[0].TargetPort.String()
	dsn := func(password string) string {
		return fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=todo sslmode=disable", host, port, secret.Data["username"], password)
	}
	conn, err := pgx.Connect(ctx, dsn(string(secret.Data["password"])))
	if err != nil {
		t.Fatalf("connecting with the published credentials: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "create table Todo (id bigint not null, title varchar(255), primary key (id))"); err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.Connect(ctx, dsn("wrong")); err == nil {
		c.Close(ctx)
		t.Error("a wrong password was accepted")
	}
}

func installCNPGCRD(t *testing.T) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "test", "charts", "cloudnative-pg", "crds", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no CRD in test/charts/cloudnative-pg/crds")
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(raw, crd); err != nil {
		t.Fatal(err)
	}
	api := apiextensionsclient.NewForConfigOrDie(env.Cluster("services").Config).ApiextensionsV1().CustomResourceDefinitions()
	if _, err := api.Create(context.Background(), crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "CRD established", func() error {
		got, err := api.Get(context.Background(), crd.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("not established")
	})
}
