package testenv_test

import (
	"context"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", "services"}, InstallCRDs: true}, &env))
}

// Each cluster is its own API server with its own data, although they share etcd.
func TestClustersAreSeparate(t *testing.T) {
	ctx := context.Background()
	mgmt := kubernetes.NewForConfigOrDie(env.Management().Config)
	services := kubernetes.NewForConfigOrDie(env.Cluster("services").Config)

	ns := &metav1.ObjectMeta{Name: "only-in-mgmt"}
	if _, err := mgmt.CoreV1().Namespaces().Create(ctx, newNamespace(ns.Name), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := services.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); err == nil {
		t.Fatal("namespace created in mgmt is visible in services")
	}
	v, err := services.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v1.36.3" {
		t.Fatalf("server version %q, want v1.36.3", v.GitVersion)
	}
}

// The CRDs are installed in the management cluster only.
func TestCRDsInstalledInManagement(t *testing.T) {
	ctx := context.Background()
	for name, want := range map[string]bool{"mgmt": true, "services": false} {
		cs := apiextensionsclient.NewForConfigOrDie(env.Cluster(name).Config)
		_, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "sveltosclusters.lib.projectsveltos.io", metav1.GetOptions{})
		if (err == nil) != want {
			t.Errorf("%s: CRD present=%v, want %v (err %v)", name, err == nil, want, err)
		}
	}
}

// The written kubeconfig works on its own, as kubectl would use it.
func TestKubeconfigFile(t *testing.T) {
	cfg, err := clientcmd.BuildConfigFromFlags("", env.Cluster("services").KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}

func newNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}
