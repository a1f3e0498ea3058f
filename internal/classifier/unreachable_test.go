package classifier_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// TestUnreachableClusterIsReported: a cluster that cannot be reached is not
// classified; its clusterInfo says why (what the probe saw) and an Event
// names the cluster, while the reachable clusters are classified as usual.
func TestUnreachableClusterIsReported(t *testing.T) {
	ctx := context.Background()
	waitReady(t)
	kubeconfig := env.Cluster("edge-1").Kubeconfig
	server := env.Cluster("edge-1").Config.Host
	ghostConfig := bytes.ReplaceAll(kubeconfig, []byte(server), []byte("https://127.0.0.1:1"))
	if bytes.Equal(ghostConfig, kubeconfig) {
		t.Fatalf("server %s not found in the kubeconfig", server)
	}
	ghost, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: fleetNamespace, Name: "ghost", Kubeconfig: ghostConfig})
	if err != nil {
		t.Fatal(err)
	}
	deleteAtEnd(t, ghost)

	cl := &libv1beta1.Classifier{}
	cl.Name = "reachability"
	cl.Spec.DeployedResourceConstraint = &libv1beta1.DeployedResourceConstraint{
		ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "Namespace", Name: "default"}},
	}
	cl.Spec.ClassifierLabels = []libv1beta1.ClassifierLabel{{Key: "reachable", Value: "yes"}}
	create(t, mgmt, cl)
	deleteAtEnd(t, cl)

	testenv.Eventually(t, "edge-1 labelled reachable=yes", labelIs(t, "edge-1", "reachable", "yes"))
	classifierStatus(t, cl.Name, func(cl *libv1beta1.Classifier) error {
		i, ok := clusterInfo(cl, "ghost")
		if !ok || i.Status != libv1beta1.FeatureStatusFailed || i.FailureMessage == nil || !strings.Contains(*i.FailureMessage, "not ready") ||
			!strings.Contains(*i.FailureMessage, "127.0.0.1:1") {
			return fmt.Errorf("ghost info %+v", i)
		}
		return nil
	})
	eventFor(t, libv1beta1.ClassifierKind, cl.Name, "ClassificationFailed", "fleet/ghost", "not ready")
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(ctx, client.ObjectKeyFromObject(ghost), sc); err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.Labels["reachable"]; ok {
		t.Fatal("the unreachable cluster was labelled")
	}
}
