package localkube

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// A cluster added to a running Env is a real API server of its own; removing it
// stops that server and forgets its objects, so that a cluster added again under
// the same name starts empty.
func TestAddAndRemoveCluster(t *testing.T) {
	if _, err := BinDir(""); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	env, err := Start(ctx, Options{Clusters: []string{"mgmt"}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Stop()

	extra, err := env.AddCluster(ctx, "extra")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.AddCluster(ctx, "extra"); err == nil {
		t.Error("a second cluster named extra was added")
	}
	cs := kubernetes.NewForConfigOrDie(extra.Config)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "left-behind"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mgmt := kubernetes.NewForConfigOrDie(env.Management().Config)
	if _, err := mgmt.CoreV1().Namespaces().Get(ctx, "left-behind", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the management cluster sees the extra cluster's namespace: %v", err)
	}

	if err := env.RemoveCluster(ctx, "extra"); err != nil {
		t.Fatal(err)
	}
	if env.Cluster("extra") != nil {
		t.Error("the removed cluster is still listed")
	}
	if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("the removed cluster's API server still answers")
	}
	if err := env.RemoveCluster(ctx, "mgmt"); err == nil {
		t.Error("the management cluster was removed")
	}

	again, err := env.AddCluster(ctx, "extra")
	if err != nil {
		t.Fatal(err)
	}
	cs = kubernetes.NewForConfigOrDie(again.Config)
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "left-behind", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a cluster added again under the same name sees the old one's namespace: %v", err)
	}
}
