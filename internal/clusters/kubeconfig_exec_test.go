package clusters_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// A kubeconfig whose user is an exec credential plugin works end to end: the
// manager runs the plugin (client-go's exec path, the one workloadIdentity
// takes), the cluster becomes ready and the API server sees the plugin's token.
func TestKubeconfigExecUser(t *testing.T) {
	const ns, name = "kubeconfig-exec", "workload"
	token := serviceAccountToken(t, "workload", "kubeconfig-exec", "plugin")
	if err := os.WriteFile(filepath.Join(filepath.Dir(execPlugin), "token-kubeconfig-exec"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := env.Cluster("workload").Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["workload"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["plugin"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1beta1", Command: execPlugin,
		Args: []string{"eks", "get-token", "--cluster-name", "kubeconfig-exec"}, InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
	}}
	kc.Contexts["workload"] = &clientcmdapi.Context{Cluster: "workload", AuthInfo: "plugin"}
	kc.CurrentContext = "workload"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: ns, Name: name, Kubeconfig: data}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: ns, Name: name}) })
	waitFor(t, ns, name, "ready", isReady)
	if err := pluginCalledWith("eks get-token --cluster-name kubeconfig-exec"); err != nil {
		t.Error(err)
	}
	if user, err := connectionUser(t, libv1beta1.SveltosClusterID(ns, name)); err != nil || user != "system:serviceaccount:kubeconfig-exec:plugin" {
		t.Errorf("the connection authenticates as %q (%v), want the plugin's ServiceAccount", user, err)
	}
}
