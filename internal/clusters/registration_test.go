package clusters_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A registered cluster becomes ready with its version and labels, and the
// management cluster registers itself as mgmt/mgmt beside it; the table kubectl
// prints shows both.
func TestRegisteredClusterBecomesReady(t *testing.T) {
	ctx := context.Background()
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{
		Namespace: "registration", Name: "services",
		Kubeconfig: env.Cluster("services").Kubeconfig,
		Labels:     map[string]string{"type": "services"},
	}); err != nil {
		t.Fatal(err)
	}
	sc := waitFor(t, "registration", "services", "ready", isReady)
	if sc.Status.Version != "v1.36.3" {
		t.Errorf("status.version = %q, want v1.36.3", sc.Status.Version)
	}
	waitFor(t, "registration", "services", "labelled", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Labels["type"] != "services" || sc.Labels[libv1beta1.K8sVersionLabel] != "v1.36.3" {
			return fmt.Errorf("labels %v", sc.Labels)
		}
		return nil
	})

	// The management cluster, as in the tutorial: registered by the manager, labelled by the user.
	waitFor(t, "mgmt", "mgmt", "ready", isReady)
	updateCluster(t, "mgmt", "mgmt", func(sc *libv1beta1.SveltosCluster) { sc.Labels["type"] = "mgmt" })

	// What `kubectl get sveltoscluster -A --show-labels` prints, from the server's table.
	rows := sveltosClusterTable(t)
	for _, want := range []string{
		"mgmt mgmt true v1.36.3 type=mgmt",
		"registration services true v1.36.3 type=services",
	} {
		found := false
		for _, r := range rows {
			if strings.HasPrefix(r, strings.Join(strings.Fields(want)[:4], " ")) && strings.Contains(r, strings.Fields(want)[4]) {
				found = true
			}
		}
		if !found {
			t.Errorf("no table row like %q in:\n%s", want, strings.Join(rows, "\n"))
		}
	}
}

// Registering again updates labels and the Secret; deregistering removes both.
func TestRegisterIsIdempotentAndDeregisterRemoves(t *testing.T) {
	ctx := context.Background()
	reg := clusters.Registration{Namespace: "reregister", Name: "workload", Kubeconfig: env.Cluster("workload").Kubeconfig, Labels: map[string]string{"env": "dev"}}
	if _, err := clusters.Register(ctx, mgmt, reg); err != nil {
		t.Fatal(err)
	}
	reg.Labels = map[string]string{"env": "prod", "team": "a"}
	if _, err := clusters.Register(ctx, mgmt, reg); err != nil {
		t.Fatal(err)
	}
	sc := waitFor(t, "reregister", "workload", "ready", isReady)
	if sc.Labels["env"] != "prod" || sc.Labels["team"] != "a" {
		t.Errorf("labels after re-register: %v", sc.Labels)
	}
	if err := clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: "reregister", Name: "workload"}); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(env.Management().Config)
	if _, err := cs.CoreV1().Secrets("reregister").Get(ctx, "workload-sveltos-kubeconfig", metav1.GetOptions{}); err == nil {
		t.Error("kubeconfig Secret still exists after deregister")
	}
	testenv.Eventually(t, "SveltosCluster gone", func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "reregister", Name: "workload"}, sc); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	// Deregistering what is not registered is fine.
	if err := clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: "reregister", Name: "workload"}); err != nil {
		t.Fatal(err)
	}
}

// sveltosClusterTable asks the API server for the table kubectl prints and
// returns its rows as "NAMESPACE NAME READY VERSION labels".
func sveltosClusterTable(t *testing.T) []string {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(env.Management().Config)
	table := &metav1.Table{}
	err := cs.CoreV1().RESTClient().Get().AbsPath("/apis/lib.projectsveltos.io/v1beta1/sveltosclusters").Param("includeObject", "Metadata").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Do(context.Background()).Into(table)
	if err != nil {
		t.Fatalf("reading table: %v", err)
	}
	col := map[string]int{}
	for i, c := range table.ColumnDefinitions {
		col[c.Name] = i
	}
	for _, name := range []string{"Name", "Ready", "Version"} {
		if _, ok := col[name]; !ok {
			t.Fatalf("table has no column %s: %v", name, table.ColumnDefinitions)
		}
	}
	var rows []string
	for _, r := range table.Rows {
		meta := &metav1.PartialObjectMetadata{}
		if err := json.Unmarshal(r.Object.Raw, meta); err != nil {
			t.Fatal(err)
		}
		var labels []string
		for k, v := range meta.Labels {
			labels = append(labels, k+"="+v)
		}
		rows = append(rows, fmt.Sprintf("%s %v %v %v %s", meta.Namespace, r.Cells[col["Name"]], r.Cells[col["Ready"]], r.Cells[col["Version"]], strings.Join(labels, ",")))
	}
	return rows
}
